import { client, enc, print, type CommandModule } from '../context.ts';
import { renderDeployment, renderDeployments } from '../render.ts';

export const environmentCommands: CommandModule = (cli) => {
  const act = (verb: string, describe: (d: any) => string, body?: (o: any) => unknown) => async (name: string, env: string, o: any) => {
    const d = await client().post<any>(`/api/v1/apps/${enc(name)}/environments/${enc(env)}/${verb}`, body?.(o) ?? {});
    print(o.json, d, () => describe(d));
  };
  cli.command('approve <app> <env>').description('pass the gate of <env> for the artifact waiting there').option('--json')
    .action(act('approve', (d) => `approved: deployment ${d.id} takes ${d.app}/${d.env} to ${d.to}`));
  cli.command('rollback <app> <env>').description('back to the previous release, zero-downtime').option('--to <deployment-id>', 'go back to the release of this past deployment').option('--json')
    .action(act('rollback', (d) => (d.trigger === 'rollback'
      ? `rolling back ${d.app}/${d.env}: deployment ${d.id} → ${d.to}; automatic deployments to ${d.env} wait until: slipway resume ${d.app} ${d.env}`
      : `rolling back ${d.id}: all traffic is back on ${d.from}; removing ${d.to}`), (o) => ({ to: o.to })));
  cli.command('promote <app> <env>').description('skip the remaining canary steps, switch a blue/green preview, or end probation').option('--json')
    .action(act('promote', (d) => `promoted ${d.id} (${d.strategy}, ${d.from} → ${d.to}): ${d.state}`));
  cli.command('pause <app> <env>').description('hold the deployment in progress where it is').option('--json')
    .action(act('pause', (d) => `paused ${d.id} at ${d.weight}% on ${d.to}`));
  cli.command('abort <app> <env>').description('stop the deployment in progress and send all traffic back').option('--json')
    .action(act('abort', (d) => `aborting ${d.id}: all traffic is back on ${d.from}`));
  cli.command('resume <app> <env>').description('resume a paused deployment; re-enable automatic deployments after a rollback').option('--json')
    .action(act('resume', (r) => [r.deployment ? `resumed ${r.deployment.id}: ${r.deployment.state}` : 'no paused deployment', 'automatic deployments are on'].join('; ')));
  cli.command('deploy <app> <env>').description('deploy a known artifact').requiredOption('--artifact <digest>', 'sha256:<hex> of a built artifact').option('--json')
    .action(act('deploy', (d) => `deployment ${d.id} takes ${d.app}/${d.env} to ${d.to}`, (o) => ({ artifact: o.artifact })));

  cli.command('deployments <app>').description('deployment history').option('--env <env>').option('--json').action(async (name: string, o) => {
    const { deployments } = await client().get<{ deployments: any[] }>(`/api/v1/apps/${enc(name)}/deployments${o.env ? `?env=${enc(o.env)}` : ''}`);
    print(o.json, deployments, () => renderDeployments(deployments));
  });
  cli.command('deployment <id>').description('one deployment and every step it took').option('--json').action(async (id: string, o) => {
    const d = await client().get<any>(`/api/v1/deployments/${enc(id)}`);
    print(o.json, d, () => renderDeployment(d));
  });
};

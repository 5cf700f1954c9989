import { client, enc, print, type CommandModule } from '../context.ts';
import { renderDeployment, renderDeployments } from '../render.ts';

export const environmentCommands: CommandModule = (cli) => {
  const act = (verb: string, describe: (d: any) => string, body?: (o: any) => unknown) => async (name: string, env: string, o: any) => {
    const d = await client().post<any>(`/api/v1/apps/${enc(name)}/environments/${enc(env)}/${verb}`, body?.(o) ?? {});
    print(o.json, d, () => describe(d));
  };
  cli.command('approve <app> <env>').description('pass the gate of <env> for the artifact waiting there').option('--json')
    .action(act('approve', (d) => `approved: deployment ${d.id} takes ${d.app}/${d.env} to ${d.to}`));
  cli.command('rollback <app> <env>').description('back to the previous release, zero-downtime').option('--json')
    .action(act('rollback', (d) => `rolling back ${d.app}/${d.env}: deployment ${d.id} → ${d.to}`));
  cli.command('deploy <app> <env>').description('deploy a known artifact').requiredOption('--artifact <digest>', 'sha256:<hex> of a built artifact').option('--json')
    .action(act('deploy', (d) => `deployment ${d.id} takes ${d.app}/${d.env} to ${d.to}`, (o) => ({ artifact: o.artifact })));

  cli.command('logs <app> <env>').description('recent output of the instances of an environment').option('--lines <n>', 'lines per instance', '50').option('--json')
    .action(async (name: string, env: string, o) => {
      const res = await client().get<{ instances: any[] }>(`/api/v1/apps/${enc(name)}/environments/${enc(env)}/logs?lines=${Number(o.lines)}`);
      print(o.json, res, () => res.instances.map((i) => [`== ${i.id} (${i.release}, ${i.state})`, ...i.lines].join('\n')).join('\n') || 'no instances');
    });
  cli.command('deployments <app>').description('deployment history').option('--env <env>').option('--json').action(async (name: string, o) => {
    const { deployments } = await client().get<{ deployments: any[] }>(`/api/v1/apps/${enc(name)}/deployments${o.env ? `?env=${enc(o.env)}` : ''}`);
    print(o.json, deployments, () => renderDeployments(deployments));
  });
  cli.command('deployment <id>').description('one deployment and every step it took').option('--json').action(async (id: string, o) => {
    const d = await client().get<any>(`/api/v1/deployments/${enc(id)}`);
    print(o.json, d, () => renderDeployment(d));
  });
};

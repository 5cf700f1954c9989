import { CliError } from '../client.ts';
import { client, enc, print, type CommandModule } from '../context.ts';
import { renderRun, renderRuns } from '../render.ts';

export const runCommands: CommandModule = (cli) => {
  cli.command('trigger <app>').description('run the pipeline for the head of the branch (or --ref)').option('--ref <ref>', 'branch or commit').option('--force', 'run again even if the commit already has a run').option('--json')
    .action(async (name: string, o) => {
      const res = await client().post<{ created: boolean; run: any }>(`/api/v1/apps/${enc(name)}/trigger`, { ref: o.ref, force: Boolean(o.force) });
      print(o.json, res, () => (res.created ? `run ${res.run.id} queued for ${res.run.commit.slice(0, 10)}` : `commit ${res.run.commit.slice(0, 10)} already has run ${res.run.id} (${res.run.state}); --force runs it again`));
    });
  cli.command('runs <app>').description('pipeline runs, newest first').option('--json').action(async (name: string, o) => {
    const { runs } = await client().get<{ runs: any[] }>(`/api/v1/apps/${enc(name)}/runs`);
    print(o.json, runs, () => renderRuns(runs));
  });
  cli.command('run').description('show a run: `run <id>`, `run logs <id> [-f]`, `run cancel <id>`')
    .argument('<id-or-action>').argument('[id]').option('-f, --follow', 'stream live output (run logs)').option('--json')
    .action(async (first: string, second: string | undefined, o) => {
      const action = first === 'logs' || first === 'cancel' ? first : 'show';
      const id = action === 'show' ? first : second;
      if (!id) throw new CliError(`missing run id: slipway run ${action} <run-id>`, { exitCode: 2 });
      if (action === 'show' && second !== undefined) {
        throw new CliError(`unknown run action "${first}"`, { exitCode: 2, hint: 'slipway run <run-id>, slipway run logs <run-id> [-f], slipway run cancel <run-id>' });
      }
      if (action === 'cancel') {
        const run = await client().post<any>(`/api/v1/runs/${enc(id)}/cancel`);
        return print(o.json, run, () => `run ${run.id}: ${run.state === 'running' ? 'cancelling' : run.state}`);
      }
      if (action === 'show') {
        const run = await client().get<any>(`/api/v1/runs/${enc(id)}`);
        return print(o.json, run, () => renderRun(run));
      }
      await runLogs(id, Boolean(o.follow), Boolean(o.json));
    });
};

async function runLogs(id: string, follow: boolean, json: boolean): Promise<void> {
  const line = (l: any) => console.log(json ? JSON.stringify(l) : `${new Date(l.ts).toISOString().slice(11, 23)} ${l.stream === 'stderr' ? '!' : ' '} ${l.line}`);
  if (!follow) return (await client().get<{ lines: any[] }>(`/api/v1/runs/${enc(id)}/logs`)).lines.forEach(line);
  let end: any;
  await client().stream(`/api/v1/runs/${enc(id)}/logs?follow=1`, (event, data) => { if (event === 'end') end = JSON.parse(data); else line(JSON.parse(data)); });
  if (end && !json) console.log(`-- run ${end.id} ${end.state}${end.error ? `: ${end.error}` : ''}`);
  if (end && end.state !== 'succeeded') process.exitCode = 1;
}

#!/usr/bin/env node
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { parseDuration } from '../core/duration.ts';
import { SlipwayError } from '../core/errors.ts';
import { SLIPWAY_VERSION } from '../core/version.ts';
import { defaultDataDir, serveForever, type ServerOptions } from '../server/main.ts';
import { deployExample } from '../server/quickstart.ts';
import { CliError, Client } from './client.ts';
import { renderArtifacts, renderDeployment, renderDeployments, renderRun, renderRuns, renderStatus } from './render.ts';

const enc = encodeURIComponent;
const print = (json: boolean, value: unknown, human: () => string) => console.log(json ? JSON.stringify(value, null, 2) : human());

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new CliError(`"${value}" is not a port number`, { exitCode: 2, hint: 'use 0-65535 (0 picks a free port)' });
  return n;
}

function serverCommand(name: string, description: string, afterStart?: Parameters<typeof serveForever>[1]): Command {
  return new Command(name).description(description)
    .option('--data-dir <dir>', 'where Slipway keeps its state', defaultDataDir())
    .option('--host <host>', 'address to bind the API and router to', '127.0.0.1')
    .option('--api-port <port>', 'API port', port, 7070)
    .option('--router-port <port>', 'router port', port, 8080)
    .option('--poll-interval <duration>', 'how often to poll git branches', '5s')
    .action(async (o) => {
      const opts: ServerOptions = { dataDir: path.resolve(o.dataDir), host: o.host, apiPort: o.apiPort, routerPort: o.routerPort, pollIntervalMs: parseDuration(o.pollInterval, '--poll-interval') };
      await serveForever(opts, afterStart);
    });
}

function program(): Command {
  const cli = new Command('slipway').version(SLIPWAY_VERSION).description('git push to a zero-downtime rollout, on one machine')
    .showHelpAfterError().exitOverride();
  const client = () => new Client();

  cli.addCommand(serverCommand('server', 'start the control plane, API and router'));
  cli.addCommand(serverCommand('quickstart', 'start the server and deploy examples/hello', deployExample));

  cli.command('apps').description('list apps').option('--json').action(async (o) => {
    const { apps } = await client().get<{ apps: any[] }>('/api/v1/apps');
    print(o.json, apps, () => (apps.length ? apps.map((a) => `${a.name}  ${a.repo} @ ${a.branch}`).join('\n') : 'no apps yet: slipway app create <repo>'));
  });

  const app = cli.command('app').description('manage apps');
  app.command('create <repo>').description('register a git repository that has a slipway.yaml').option('--branch <branch>', 'branch to follow', 'main').option('--json')
    .action(async (repo: string, o) => {
      const location = existsSync(repo) ? path.resolve(repo) : repo;
      const res = await client().post<{ app: any; run: any }>('/api/v1/apps', { repo: location, branch: o.branch });
      print(o.json, res, () => `created ${res.app.name} (${location} @ ${o.branch}); run ${res.run.id} queued for ${res.run.commit.slice(0, 10)}`);
    });

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
      const c = client();
      if (action === 'cancel') {
        const run = await c.post<any>(`/api/v1/runs/${enc(id)}/cancel`);
        return print(o.json, run, () => `run ${run.id}: ${run.state === 'running' ? 'cancelling' : run.state}`);
      }
      if (action === 'show') {
        const run = await c.get<any>(`/api/v1/runs/${enc(id)}`);
        return print(o.json, run, () => renderRun(run));
      }
      const line = (l: any) => console.log(o.json ? JSON.stringify(l) : `${new Date(l.ts).toISOString().slice(11, 23)} ${l.stream === 'stderr' ? '!' : ' '} ${l.line}`);
      if (!o.follow) return (await c.get<{ lines: any[] }>(`/api/v1/runs/${enc(id)}/logs`)).lines.forEach(line);
      let end: any;
      await c.stream(`/api/v1/runs/${enc(id)}/logs?follow=1`, (event, data) => { if (event === 'end') end = JSON.parse(data); else line(JSON.parse(data)); });
      if (end && !o.json) console.log(`-- run ${end.id} ${end.state}${end.error ? `: ${end.error}` : ''}`);
      if (end && end.state !== 'succeeded') process.exitCode = 1;
    });

  cli.command('status <app>').description('per environment: release, commit, artifact, instances').option('--json').action(async (name: string, o) => {
    const s = await client().get<any>(`/api/v1/apps/${enc(name)}/status`);
    print(o.json, s, () => renderStatus(s));
  });

  const envAction = (verb: string, describe: (d: any) => string, body?: (o: any) => unknown) => async (name: string, env: string, o: any) => {
    const d = await client().post<any>(`/api/v1/apps/${enc(name)}/environments/${enc(env)}/${verb}`, body?.(o) ?? {});
    print(o.json, d, () => describe(d));
  };
  cli.command('approve <app> <env>').description('pass the gate of <env> for the artifact waiting there').option('--json')
    .action(envAction('approve', (d) => `approved: deployment ${d.id} takes ${d.app}/${d.env} to ${d.to}`));
  cli.command('rollback <app> <env>').description('back to the previous release, zero-downtime').option('--json')
    .action(envAction('rollback', (d) => `rolling back ${d.app}/${d.env}: deployment ${d.id} → ${d.to}`));
  cli.command('deploy <app> <env>').description('deploy a known artifact').requiredOption('--artifact <digest>', 'sha256:<hex> of a built artifact').option('--json')
    .action(envAction('deploy', (d) => `deployment ${d.id} takes ${d.app}/${d.env} to ${d.to}`, (o) => ({ artifact: o.artifact })));

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
  cli.command('artifacts <app>').description('artifacts built for an app').option('--json').action(async (name: string, o) => {
    const { artifacts } = await client().get<{ artifacts: any[] }>(`/api/v1/apps/${enc(name)}/artifacts`);
    print(o.json, artifacts, () => renderArtifacts(artifacts));
  });
  for (const sub of cli.commands) sub.exitOverride();
  for (const sub of app.commands) sub.exitOverride();
  return cli;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof CliError || err instanceof SlipwayError) {
      console.error(`error: ${err.message}`);
      if (err.hint) console.error(`hint: ${err.hint}`);
      return err instanceof CliError ? err.exitCode : 1;
    }
    console.error(`error: ${(err as Error).message}`);
    return 1;
  }
}

/** Entry point for the `slipway` bin and `node src/cli/main.ts`. */
export async function run(argv: string[]): Promise<void> {
  process.exitCode = await main(argv);
}

if (import.meta.main) await run(process.argv.slice(2));

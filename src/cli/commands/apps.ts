import { existsSync } from 'node:fs';
import path from 'node:path';
import { client, enc, print, type CommandModule } from '../context.ts';
import { renderArtifacts, renderStatus } from '../render.ts';

export const appCommands: CommandModule = (cli) => {
  cli.command('apps').description('list apps').option('--json').action(async (o) => {
    const { apps } = await client().get<{ apps: any[] }>('/api/v1/apps');
    print(o.json, apps, () => (apps.length ? apps.map((a) => `${a.name}  ${a.repo} @ ${a.branch}`).join('\n') : 'no apps yet: slipway app create <repo>'));
  });
  const app = cli.command('app').description('manage apps');
  app.command('create <repo>').description('register a git repository that has a slipway.yaml').option('--branch <branch>', 'branch to follow', 'main').option('--json')
    .action(async (repo: string, o) => {
      // A local path is resolved here: the server may run from another directory.
      const location = existsSync(repo) ? path.resolve(repo) : repo;
      const res = await client().post<{ app: any; run: any }>('/api/v1/apps', { repo: location, branch: o.branch });
      print(o.json, res, () => `created ${res.app.name} (${location} @ ${o.branch}); run ${res.run.id} queued for ${res.run.commit.slice(0, 10)}`);
    });
  cli.command('status <app>').description('per environment: release, commit, artifact, instances').option('--json').action(async (name: string, o) => {
    const s = await client().get<any>(`/api/v1/apps/${enc(name)}/status`);
    print(o.json, s, () => renderStatus(s));
  });
  cli.command('artifacts <app>').description('artifacts built for an app').option('--json').action(async (name: string, o) => {
    const { artifacts } = await client().get<{ artifacts: any[] }>(`/api/v1/apps/${enc(name)}/artifacts`);
    print(o.json, artifacts, () => renderArtifacts(artifacts));
  });
};

import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunningServer } from './main.ts';

const EXAMPLE = fileURLToPath(new URL('../../examples/hello', import.meta.url));

/** First start of `npm start`: turn examples/hello into a git repository and register it. */
export async function deployExample(server: RunningServer): Promise<void> {
  const { slipway } = server;
  const repo = path.join(slipway.dataDir, 'examples', 'hello');
  if (!existsSync(path.join(repo, '.git'))) {
    mkdirSync(repo, { recursive: true });
    cpSync(EXAMPLE, repo, { recursive: true });
    const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, stdio: 'ignore' });
    git('init', '--quiet', '--initial-branch=main');
    git('add', '.');
    git('-c', 'user.name=Slipway Quickstart', '-c', 'user.email=quickstart@slipway.invalid', 'commit', '--quiet', '-m', 'hello: first version');
  }
  if (!slipway.store.getApp('hello')) await slipway.pipeline.createApp(repo, 'main', 'quickstart');
  const routerPort = new URL(server.routerUrl).port;
  console.log(`
quickstart: examples/hello is a git repository at ${repo}
  it builds, deploys to staging, and waits for approval to enter production.

  export SLIPWAY_URL=${server.apiUrl} SLIPWAY_TOKEN=$(cat ${path.join(slipway.dataDir, 'admin-token')})
  ./bin/slipway.js status hello
  curl -H 'Host: hello.staging.localhost' http://127.0.0.1:${routerPort}/
  ./bin/slipway.js approve hello production
  (edit ${repo}/message.txt, git commit -am "new message", and watch it roll out)
`);
}

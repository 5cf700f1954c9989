import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { freePort } from '../../src/core/net.ts';
import { startAlertmanager, startPrometheus } from '../helpers/daemons.ts';
import { exampleRepo } from '../helpers/repo.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { waitFor } from '../helpers/wait.ts';
import { receiver } from '../telemetry/alerts/helpers.ts';

const HOST = 'hello.staging.localhost';

function hit(s: TestServer, pathAndQuery: string): Promise<number> {
  return new Promise((resolve) => {
    http.get({ host: '127.0.0.1', port: s.routerPort, path: pathAndQuery, headers: { host: HOST }, agent: false }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode!)); })
      .on('error', () => resolve(0));
  });
}

const api = async (s: TestServer, pathAndQuery: string) => (await fetch(`${s.apiUrl}${pathAndQuery}`, { headers: { authorization: `Bearer ${s.token}` } })).json();

async function helloWith(t: Parameters<typeof exampleRepo>[0], extra: string) {
  const repo = exampleRepo(t, 'hello');
  const spec = readFileSync(`${repo.path}/slipway.yaml`, 'utf8')
    .replace('  instances: 2', '  instances: 2\n  metrics: {path: /metrics, interval: 1s}')
    .replace(/environments:[\s\S]*$/, `environments:\n  staging: {}\n${extra}`);
  repo.commit({ 'slipway.yaml': spec }, 'observability settings');
  return repo;
}

test('logs: instance output is searchable within a second; JSON lines by level and field; pipeline output and events too', { timeout: 120_000 }, async (t) => {
  const s = await startServer(t);
  const repo = await helloWith(t, '');
  assert.equal((await s.cli('app', 'create', repo.path)).code, 0);
  await waitFor(async () => (await s.json('status', 'hello')).environments[0].instances.filter((i: any) => i.healthy).length === 2, 30_000, 'staging');

  const token = `token-${Date.now().toString(36)}`;
  assert.equal(await hit(s, `/log?msg=${token}`), 204);
  // Within a second through the API (the CLI's own start-up is not part of the figure).
  await waitFor(async () => (await api(s, `/api/v1/logs?app=hello&grep=${token}`)).records.length === 1, 1000, 'the token in the log store');
  const found = await s.cli('logs', 'hello', '--grep', token);
  assert.equal(found.code, 0);
  assert.match(found.stdout, new RegExp(`staging/hello-staging-v1-\\w+\\s+${token}`));

  // Live tail: `logs -f` prints a line that arrives after it started.
  const follower = spawn(process.execPath, [path.resolve(import.meta.dirname, '../../src/cli/main.ts'), 'logs', 'hello', '-f', '--grep', `${token}-live`],
    { env: { ...process.env, SLIPWAY_URL: s.apiUrl, SLIPWAY_TOKEN: s.token } });
  t.after(() => follower.kill('SIGKILL'));
  let followed = '';
  follower.stdout.on('data', (d) => { followed += d; });
  await new Promise((r) => setTimeout(r, 1000));
  await hit(s, `/log?msg=${token}-live`);
  await waitFor(() => followed.includes(`${token}-live`), 5000, 'the live line on `logs -f`');
  follower.kill('SIGTERM');

  await hit(s, '/log?format=json&level=warn&user=alice&msg=disk%20almost%20full');
  await hit(s, '/log?format=json&level=info&user=bob&msg=all%20fine');
  const warn = await waitFor(async () => {
    const r = await s.json('logs', 'hello', '--env', 'staging', '--level', 'warn', '--field', 'user=alice');
    return r.length ? r : undefined;
  }, 5000, 'the warn line');
  assert.equal(warn.length, 1);
  assert.equal(warn[0].message, 'disk almost full');
  assert.equal(warn[0].level, 'warn');
  assert.equal(warn[0].fields.user, 'alice');
  assert.equal((await s.json('logs', 'hello', '--field', 'user=bob', '--level', 'warn')).length, 0);

  // Pipeline step output and deployment events live in the same place.
  const steps = await s.json('logs', 'hello', '--source', 'pipeline', '--grep', 'healthz ok');
  assert.ok(steps.length >= 1 && steps[0].fields.run === 'hello-1');
  const events = await s.json('logs', 'hello', '--source', 'event', '--grep', 'deployment');
  assert.ok(events.some((e: any) => e.fields.kind === 'deployment.committed'));

  // Lines from outside, and the mistakes.
  const posted = await fetch(`${s.apiUrl}/api/v1/logs`, { method: 'POST', headers: { authorization: `Bearer ${s.token}` }, body: '{"app":"hello","env":"staging","level":"error","msg":"batch job failed","job":"nightly"}\n' });
  assert.equal(posted.status, 202);
  await waitFor(async () => (await s.json('logs', 'hello', '--source', 'external', '--field', 'job=nightly')).length === 1, 5000, 'the posted line');
  const badLine = await fetch(`${s.apiUrl}/api/v1/logs`, { method: 'POST', headers: { authorization: `Bearer ${s.token}` }, body: 'not json\n' });
  assert.equal(badLine.status, 400);
  assert.equal((await fetch(`${s.apiUrl}/api/v1/logs`, { method: 'POST', body: '{}' })).status, 401);
  const badSince = await s.cli('logs', 'hello', '--since', '15x');
  assert.equal(badSince.code, 2, 'a bad flag value is a usage error');
  assert.match(badSince.stderr, /15x/);
});

test('metrics: router and scraped app metrics are queryable; a real Prometheus scrapes Slipway', { timeout: 120_000 }, async (t) => {
  const s = await startServer(t);
  const repo = await helloWith(t, '');
  assert.equal((await s.cli('app', 'create', repo.path)).code, 0);
  await waitFor(async () => (await s.json('status', 'hello')).environments[0].instances.filter((i: any) => i.healthy).length === 2, 30_000, 'staging');
  for (let n = 0; n < 40; n++) await hit(s, '/');

  const scraped = await waitFor(async () => {
    const r = await s.json('metrics', 'hello', 'hello_requests_total', '--env', 'staging', '--since', '5m');
    return r.series.length === 2 && r.series.every((x: any) => x.values.some((v: number | null) => v !== null)) ? r : undefined;
  }, 20_000, 'the app metric scraped from both instances');
  assert.ok(scraped.series.every((x: any) => x.labels.app === 'hello' && x.labels.env === 'staging' && x.labels.release === 'v1' && x.labels.instance));
  const requests = await waitFor(async () => {
    const r = await s.json('metrics', 'hello', 'http_requests_total', '--env', 'staging', '--agg', 'sum', '--by', 'release', '--since', '5m');
    const last = r.series[0]?.values.filter((v: number | null) => v !== null).at(-1);
    return last >= 40 ? r : undefined;
  }, 20_000, 'router request counts');
  assert.equal(requests.series[0].labels.release, 'v1');
  // CPU and memory of each instance, and the platform's own figures, with no configuration.
  const memory = await waitFor(async () => {
    const r = await s.json('metrics', 'hello', 'process_resident_memory_bytes', '--env', 'staging', '--since', '5m');
    return r.series.length === 2 ? r : undefined;
  }, 30_000, 'instance memory');
  assert.ok(memory.series.every((x: any) => x.values.some((v: number | null) => v !== null && v > 1e6)));
  const deployments = await s.json('metrics', 'hello', 'slipway_deployments_total', '--since', '5m');
  assert.ok(deployments.series.some((x: any) => x.labels.outcome === 'committed' && x.labels.strategy === 'rolling'));
  const table = await s.cli('metrics', 'hello', 'http_request_duration_ms', '--quantile', '0.99', '--since', '5m');
  assert.equal(table.code, 0, table.stderr);
  const unknown = await s.cli('metrics', 'hello', 'nope_total');
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no metric named "nope_total"/);

  // Slipway's own /metrics, scraped by the real Prometheus and read back through its API.
  const own = await fetch(`${s.apiUrl}/metrics`, { headers: { authorization: `Bearer ${s.token}` } });
  assert.match(await own.text(), /slipway_router_http_requests_total\{app="hello",env="staging"/);
  const prometheus = await startPrometheus(t, new URL(s.apiUrl).host, s.token);
  const series = await waitFor(async () => {
    const r = await prometheus.get('/api/v1/query?query=' + encodeURIComponent('sum(slipway_router_http_requests_total{app="hello"})'));
    return r.data.result.length ? r.data.result : undefined;
  }, 30_000, 'Prometheus to have scraped Slipway');
  assert.ok(Number(series[0].value[1]) >= 40);
});

test('alerts: a log-pattern rule fires and resolves, delivered to a webhook and to Alertmanager; a silence stops it', { timeout: 150_000 }, async (t) => {
  const hook = await receiver(t);
  const am = await startAlertmanager(t);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'slipway-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = path.join(dir, 'alerting.yaml');
  writeFileSync(config, [
    'interval: 1s',
    'notifiers:',
    `  - {name: hook, webhook: {url: "${hook.url}"}}`,
    `  - {name: am, alertmanager: {url: "${am.url}"}}`,
    '',
  ].join('\n'));
  const s = await startServer(t, { args: ['--config', config] });
  const repo = await helloWith(t, 'alerts:\n  - name: oops\n    log_rate: {pattern: OOPS, above: 0, window: 3s}\n    severity: critical\n');
  assert.equal((await s.cli('app', 'create', repo.path)).code, 0);
  await waitFor(async () => (await s.json('status', 'hello')).environments[0].instances.filter((i: any) => i.healthy).length === 2, 30_000, 'staging');

  await hit(s, '/log?msg=OOPS%20something%20broke');
  const firing = await waitFor(() => hook.requests.find((r: any) => r.body?.status === 'firing' && r.body?.alert?.rule === 'oops'), 20_000, 'the firing notification');
  assert.match(JSON.stringify(firing.body), /slipway logs hello/);
  const inAm = await waitFor(async () => (await am.get('/api/v2/alerts')).find((a: any) => a.labels.alertname === 'oops'), 20_000, 'the alert in Alertmanager');
  assert.equal(inAm.labels.app, 'hello');
  assert.equal(inAm.labels.severity, 'critical');
  assert.equal((await s.json('alerts', 'hello')).alerts.find((a: any) => a.state === 'firing')?.severity, 'critical');
  await waitFor(() => hook.requests.find((r: any) => r.body?.status === 'resolved' && r.body?.alert?.rule === 'oops'), 30_000, 'the resolved notification');
  // Deployment outcomes go out through the same notifiers.
  assert.ok(hook.requests.some((r: any) => r.body?.type === 'event' && r.body?.kind === 'deployment.succeeded' && r.body?.app === 'hello'),
    `a deployment notification: ${JSON.stringify(hook.requests.map((r: any) => r.body?.kind ?? r.body?.status))}`);

  const silenced = await s.cli('silence', 'hello', '--for', '1h', '--rule', 'oops', '--comment', 'known issue');
  assert.equal(silenced.code, 0, silenced.stderr);
  const before = hook.requests.length;
  await hit(s, '/log?msg=OOPS%20again');
  await waitFor(async () => (await s.json('alerts', 'hello')).alerts.some((a: any) => a.state === 'firing' && a.silenced), 20_000, 'the silenced alert to fire');
  await new Promise((r) => setTimeout(r, 2000));
  assert.equal(hook.requests.slice(before).filter((r: any) => r.body?.status === 'firing').length, 0, 'a silence stops notifications');
  const bad = await s.cli('silence', 'hello', '--for', '2x');
  assert.equal(bad.code, 2, 'a bad flag value is a usage error');
  assert.match(bad.stderr, /2x/);
});

test('alerts: an error-rate threshold rule fires from the router\'s own metrics, with the numbers behind it', { timeout: 150_000 }, async (t) => {
  const hook = await receiver(t);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'slipway-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = path.join(dir, 'alerting.yaml');
  // A second receiver nobody listens on: delivery fails, is retried, and the failure shows.
  const nobody = await freePort();
  writeFileSync(config, `interval: 1s\nnotifiers:\n  - {name: hook, webhook: {url: "${hook.url}"}}\n  - {name: down, webhook: {url: "http://127.0.0.1:${nobody}/hook"}}\n`);
  const s = await startServer(t, { args: ['--config', config] });
  const repo = await helloWith(t, 'alerts:\n  - name: errors\n    threshold: {metric: error_rate, above: 10%, window: 15s}\n    severity: critical\n');
  const spec = readFileSync(`${repo.path}/slipway.yaml`, 'utf8').replace('  instances: 2', '  instances: 2\n  env:\n    ERROR_RATE: "0.5"');
  repo.commit({ 'slipway.yaml': spec }, 'half the requests fail');
  assert.equal((await s.cli('app', 'create', repo.path)).code, 0);
  await waitFor(async () => (await s.json('status', 'hello')).environments[0].instances.filter((i: any) => i.healthy).length === 2, 30_000, 'staging');
  let stop = false;
  const traffic = (async () => { while (!stop) await hit(s, '/'); })();
  t.after(async () => { stop = true; await traffic; });
  const firing = await waitFor(() => hook.requests.find((r: any) => r.body?.status === 'firing' && r.body?.alert?.rule === 'errors'), 60_000, 'the error-rate alert');
  stop = true;
  await traffic;
  const alert = (firing.body as any).alert;
  assert.equal(alert.env, 'staging');
  assert.ok(alert.value > 0.3 && alert.value < 0.7, `error rate ${alert.value}`);
  assert.equal(alert.threshold, 0.1);
  let last = '';
  const shown = await waitFor(async () => {
    const r = await s.cli('alerts', 'hello');
    last = r.stdout + r.stderr;
    return /notifier down \(webhook .*\) is failing: .*last error: .+/.test(r.stdout) ? r : undefined;
  }, 15_000, 'the failing notifier in `slipway alerts`').catch((err: Error) => { throw new Error(`${err.message}\n${last}`); });
  assert.match(shown.stdout, /errors\s+hello\s+staging\s+firing\s+critical/);
});

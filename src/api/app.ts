import { Hono, type Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { SlipwayError, notFound } from '../core/errors.ts';
import type { Slipway } from '../server/slipway.ts';
import type { LogLine } from '../store/types.ts';
import { bearerAuth } from './auth.ts';
import { deploymentView, instanceView, runView, statusView } from './views.ts';

type Env = { Variables: { actor: string } };

async function body(c: Context): Promise<Record<string, unknown>> {
  const text = await c.req.text();
  if (!text.trim()) return {};
  try {
    const parsed = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed;
  } catch { /* fall through */ }
  throw new SlipwayError('request.bad_json', 'the request body is not a JSON object', { hint: 'send Content-Type: application/json with an object body' });
}

function str(value: unknown, name: string, required: boolean): string | undefined {
  if (value === undefined || value === null || value === '') {
    if (required) throw new SlipwayError('request.missing', `"${name}" is required`);
    return undefined;
  }
  if (typeof value !== 'string') throw new SlipwayError('request.type', `"${name}" must be a string`);
  return value;
}

/** The REST API under /api/v1. Every error is `{error: {code, message, hint}}` with its status. */
export function createApi(slipway: Slipway, token: string): Hono<Env> {
  const { store, pipeline, promotion } = slipway;
  const api = new Hono<Env>();
  const requireApp = (name: string) => pipeline.requireApp(name);

  api.onError((err, c) => {
    if (err instanceof SlipwayError) return c.json({ error: err.toJSON() }, err.status as 400);
    console.error('slipway: API error:', err);
    return c.json({ error: { code: 'internal', message: 'internal error; the server log has details' } }, 500);
  });
  api.notFound((c) => c.json({ error: { code: 'route.not_found', message: `no API route ${c.req.method} ${c.req.path}`, hint: 'API routes live under /api/v1' } }, 404));

  api.get('/healthz', (c) => c.json({ ok: true }));
  api.use('/api/*', bearerAuth(token));

  api.get('/api/v1/apps', (c) => c.json({ apps: store.listApps() }));
  api.post('/api/v1/apps', async (c) => {
    const b = await body(c);
    const repo = str(b.repo, 'repo', true)!;
    const branch = str(b.branch, 'branch', false) ?? 'main';
    const { app, run } = await pipeline.createApp(repo, branch, c.get('actor'));
    return c.json({ app, run: runView(store, run) }, 201);
  });
  api.get('/api/v1/apps/:app', (c) => c.json(statusView(store, requireApp(c.req.param('app')).name)));
  api.get('/api/v1/apps/:app/status', (c) => c.json(statusView(store, requireApp(c.req.param('app')).name)));

  const trigger = async (c: Context<Env>, kind: string) => {
    const b = await body(c);
    const { run, created } = await pipeline.trigger(c.req.param('app')!, str(b.ref, 'ref', false), kind, b.force === true);
    return c.json({ created, run: runView(store, run) }, created ? 201 : 200);
  };
  api.post('/api/v1/apps/:app/trigger', (c) => trigger(c, 'manual'));
  api.post('/api/v1/apps/:app/hooks/git', (c) => trigger(c, 'webhook'));

  api.get('/api/v1/apps/:app/runs', (c) => {
    const app = requireApp(c.req.param('app'));
    return c.json({ runs: store.listRuns(app.name, Number(c.req.query('limit') ?? 50)).map((r) => runView(store, r)) });
  });
  const requireRun = (id: string) => {
    const run = store.getRun(id);
    if (!run) throw notFound('run', id, 'list runs with `slipway runs <app>`');
    return run;
  };
  api.get('/api/v1/runs/:id', (c) => c.json(runView(store, requireRun(c.req.param('id')))));
  api.post('/api/v1/runs/:id/cancel', (c) => c.json(runView(store, pipeline.cancel(requireRun(c.req.param('id')).id, c.get('actor')))));
  api.get('/api/v1/runs/:id/logs', (c) => {
    const run = requireRun(c.req.param('id'));
    const after = Number(c.req.query('after') ?? -1);
    if (c.req.query('follow') !== '1' && c.req.query('follow') !== 'true') return c.json({ lines: store.readLog(run.id, after) });
    return streamSSE(c, async (stream) => {
      // Subscribe before reading what is stored, then skip what was already sent: no gap, no repeat.
      const queue: (LogLine | null)[] = [];
      let wake: (() => void) | undefined;
      const listener = (line: LogLine | null) => { queue.push(line); wake?.(); };
      pipeline.logs.on(`run:${run.id}`, listener);
      stream.onAbort(() => { queue.push(null); wake?.(); });
      try {
        let last = after;
        for (const line of store.readLog(run.id, after)) { await stream.writeSSE({ data: JSON.stringify(line), id: String(line.seq) }); last = line.seq; }
        const finished = () => { const s = store.getRun(run.id)?.state; return s !== 'queued' && s !== 'running'; };
        while (!finished() || queue.length > 0) {
          if (queue.length === 0) await new Promise<void>((resolve) => { wake = resolve; setTimeout(resolve, 1000); });
          wake = undefined;
          const line = queue.shift();
          if (line === null) break;
          if (line && line.seq > last) { await stream.writeSSE({ data: JSON.stringify(line), id: String(line.seq) }); last = line.seq; }
        }
        await stream.writeSSE({ event: 'end', data: JSON.stringify(runView(store, store.getRun(run.id)!)) });
      } finally {
        pipeline.logs.off(`run:${run.id}`, listener);
      }
    });
  });

  api.get('/api/v1/apps/:app/artifacts', (c) => c.json({ artifacts: store.listArtifacts(requireApp(c.req.param('app')).name) }));
  api.get('/api/v1/apps/:app/deployments', (c) => {
    const app = requireApp(c.req.param('app'));
    return c.json({ deployments: store.listDeployments(app.name, c.req.query('env')).map((d) => deploymentView(store, d)) });
  });
  api.get('/api/v1/deployments/:id', (c) => {
    const d = store.getDeployment(c.req.param('id'));
    if (!d) throw notFound('deployment', c.req.param('id'), 'list deployments with `slipway deployments <app>`');
    return c.json({ ...deploymentView(store, d), events: store.listEvents({ deployment: d.id, limit: 1000 }) });
  });

  const envRoute = (action: (app: string, env: string, actor: string, b: Record<string, unknown>) => unknown) => async (c: Context<Env>) => {
    const b = await body(c);
    const d = action(requireApp(c.req.param('app')!).name, c.req.param('env')!, c.get('actor'), b) as Parameters<typeof deploymentView>[1];
    return c.json(deploymentView(store, d), 202);
  };
  api.post('/api/v1/apps/:app/environments/:env/approve', envRoute((app, env, actor) => promotion.approve(app, env, actor)));
  api.post('/api/v1/apps/:app/environments/:env/rollback', envRoute((app, env, actor) => promotion.rollback(app, env, actor)));
  api.post('/api/v1/apps/:app/environments/:env/deploy', envRoute((app, env, actor, b) => promotion.deployArtifact(app, env, str(b.artifact, 'artifact', true)!, actor)));
  api.get('/api/v1/apps/:app/environments/:env/logs', async (c) => {
    const app = requireApp(c.req.param('app'));
    const env = c.req.param('env');
    if (!store.getEnvironment(app.name, env)) throw notFound('environment', `${app.name}/${env}`);
    const lines = Math.min(Number(c.req.query('lines') ?? 100), 5000);
    const instances = store.liveInstances(app.name, env);
    return c.json({
      instances: await Promise.all(instances.map(async (i) => ({ ...instanceView(i), lines: await slipway.driver.tail(i.id, lines) }))),
    });
  });
  api.get('/api/v1/events', (c) => c.json({ events: store.listEvents({ app: c.req.query('app'), after: Number(c.req.query('after') ?? 0), limit: Number(c.req.query('limit') ?? 500) }) }));
  return api;
}

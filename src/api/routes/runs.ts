import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { notFound } from '../../core/errors.ts';
import type { Slipway } from '../../server/slipway.ts';
import type { LogLine, Run } from '../../store/types.ts';
import { body, str } from '../request.ts';
import type { ApiEnv, RouteModule } from '../types.ts';
import { runView } from '../views.ts';

export const runRoutes: RouteModule = (api, slipway) => {
  const { store, pipeline } = slipway;
  const trigger = async (c: Context<ApiEnv>, kind: string) => {
    const b = await body(c);
    const { run, created } = await pipeline.trigger(c.req.param('app')!, str(b.ref, 'ref', false), kind, b.force === true);
    return c.json({ created, run: runView(store, run) }, created ? 201 : 200);
  };
  api.post('/api/v1/apps/:app/trigger', (c) => trigger(c, 'manual'));
  api.post('/api/v1/apps/:app/hooks/git', (c) => trigger(c, 'webhook'));
  api.get('/api/v1/apps/:app/runs', (c) => {
    const app = pipeline.requireApp(c.req.param('app'));
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
    const follow = c.req.query('follow') === '1' || c.req.query('follow') === 'true';
    return follow ? followRun(c, slipway, run, after) : c.json({ lines: store.readLog(run.id, after) });
  });
};

/** Server-Sent Events: stored lines first, then live ones, then an `end` event with the run. */
function followRun(c: Context<ApiEnv>, { store, pipeline }: Slipway, run: Run, after: number) {
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
}

import { streamSSE } from 'hono/streaming';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { SlipwayError } from '../../core/errors.ts';
import { filterFromParams, type LogRecord } from '../../telemetry/logs/index.ts';
import { writeExposition } from '../../telemetry/exposition-out.ts';
import type { MetricQuery } from '../../telemetry/metrics/index.ts';
import type { AlertStateName } from '../../telemetry/alerts/types.ts';
import { body, str } from '../request.ts';
import type { RouteModule } from '../types.ts';

const MAX_POSTED_LINES = 10_000;
const ALERT_STATES: string[] = ['pending', 'firing', 'resolved'] satisfies AlertStateName[];

export const telemetryRoutes: RouteModule = (api, slipway) => {
  const { observability: obs, pipeline } = slipway;
  const control = new Registry();
  collectDefaultMetrics({ register: control, prefix: 'slipway_control_plane_' });

  // ── logs ──
  api.get('/api/v1/logs', (c) => {
    const params = { ...c.req.queries(), field: c.req.queries('field') } as Record<string, string[] | undefined>;
    const filter = filterFromParams(params, Date.now());
    if (filter.app) pipeline.requireApp(filter.app);
    if (c.req.query('follow') !== '1' && c.req.query('follow') !== 'true') return c.json({ records: obs.logs.query(filter), stats: obs.logs.stats() });
    return streamSSE(c, async (stream) => {
      const queue: LogRecord[] = [];
      let wake: (() => void) | undefined;
      let open = true;
      stream.onAbort(() => { open = false; wake?.(); });
      const unsubscribe = await obs.logs.tail({ ...filter, until: undefined }, (r) => { queue.push(r); wake?.(); });
      try {
        while (open) {
          if (queue.length === 0) await new Promise<void>((resolve) => { wake = resolve; setTimeout(resolve, 15_000); });
          wake = undefined;
          if (queue.length === 0) await stream.writeSSE({ event: 'ping', data: '' });
          while (queue.length) { const r = queue.shift()!; await stream.writeSSE({ data: JSON.stringify(r), id: String(r.id) }); }
        }
      } finally {
        unsubscribe();
      }
    });
  });
  api.post('/api/v1/logs', async (c) => {
    const lines = (await c.req.text()).split('\n').filter((l) => l.trim());
    if (lines.length > MAX_POSTED_LINES) throw new SlipwayError('logs.too_many', `${lines.length} lines in one request; at most ${MAX_POSTED_LINES}`, { status: 413, hint: 'send the lines in several requests' });
    let accepted = 0;
    for (const [n, line] of lines.entries()) {
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line);
        if (!record || typeof record !== 'object' || Array.isArray(record)) throw new Error('not an object');
      } catch {
        throw new SlipwayError('logs.bad_line', `line ${n + 1} is not a JSON object`, { hint: 'POST one JSON object per line, e.g. {"app":"hello","level":"info","msg":"started"}' });
      }
      const app = str(record.app, `line ${n + 1}: app`, true)!;
      pipeline.requireApp(app);
      const label = (key: string) => (typeof record[key] === 'string' ? record[key] as string : null);
      if (obs.logs.ingestLine(line, { app, env: label('env'), release: label('release'), instance: label('instance'), source: 'external', stream: 'stdout' })) accepted++;
    }
    return c.json({ accepted, dropped: lines.length - accepted }, 202);
  });

  // ── metrics ──
  api.get('/api/v1/apps/:app/metrics', (c) => {
    const app = pipeline.requireApp(c.req.param('app')).name;
    return c.json({ metrics: obs.metrics.metricNames({ app }), families: obs.metrics.families() });
  });
  api.get('/api/v1/apps/:app/metrics/:metric', (c) => {
    const app = pipeline.requireApp(c.req.param('app')).name;
    const q = (k: string) => c.req.query(k) || undefined;
    const query: MetricQuery = {
      metric: c.req.param('metric'),
      match: { app, ...(q('env') ? { env: q('env')! } : {}) },
      matchers: c.req.queries('match') ?? [],
      fn: q('fn') as MetricQuery['fn'], window: q('window'), agg: q('agg') as MetricQuery['agg'],
      by: q('by')?.split(',').filter(Boolean), quantile: q('quantile') === undefined ? undefined : Number(q('quantile')),
      since: q('since'), step: q('step'),
      start: q('start') ? Date.parse(q('start')!) : undefined, end: q('end') ? Date.parse(q('end')!) : undefined,
    };
    return c.json(obs.metrics.query(query));
  });
  api.get('/metrics', async (c) => {
    const { samples, families } = obs.currentSamples();
    const text = writeExposition(samples, families) + await control.metrics();
    return c.text(text, 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
  });

  // ── alerts and silences ──
  api.get('/api/v1/alerts', (c) => {
    const app = c.req.query('app') || undefined;
    const state = c.req.query('state') || undefined;
    if (app) pipeline.requireApp(app);
    if (state && !ALERT_STATES.includes(state)) {
      throw new SlipwayError('usage.bad_value', `alert state "${state}" is not one of ${ALERT_STATES.join(', ')}`, { hint: `use --state ${ALERT_STATES.join('|')}` });
    }
    return c.json({ alerts: obs.alerts.alerts({ app, env: c.req.query('env') || undefined, state: state as AlertStateName | undefined }) });
  });
  api.get('/api/v1/alerting', (c) => c.json(obs.alerts.status()));
  api.get('/api/v1/silences', (c) => c.json({ silences: obs.alerts.silences.list({ includeExpired: c.req.query('all') === '1' }) }));
  api.post('/api/v1/silences', async (c) => {
    const b = await body(c);
    const app = str(b.app, 'app', false);
    if (app) pipeline.requireApp(app);
    const silence = obs.alerts.silences.create({
      app, env: str(b.env, 'env', false), rule: str(b.rule, 'rule', false),
      duration: str(b.duration, 'duration', true)!, comment: str(b.comment, 'comment', false) ?? '', createdBy: c.get('actor'),
    });
    return c.json(silence, 201);
  });
  api.delete('/api/v1/silences/:id', (c) => c.json(obs.alerts.silences.expire(c.req.param('id'), c.get('actor'))));
};

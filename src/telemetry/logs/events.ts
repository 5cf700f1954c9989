import type { OpEvent } from '../../store/types.ts';
import { renderValue } from './search.ts';
import type { Level, NewLogRecord } from './types.ts';

// Operation events (deployments, instances, gates, runs) as log records, so `slipway logs`
// shows "instance crashed" between the lines that led to it. Pure. Wiring:
//   events.on('event', (e) => logs.ingest([eventToRecord(e)]))

const LEVEL_BY_KIND: Record<string, Level> = {
  'instance.crashed': 'error',
  'deployment.failing': 'error',
  'deployment.rolling_back': 'warn',
  'deployment.paused': 'warn',
  'environment.auto_paused': 'warn',
  'instance.orphan_killed': 'warn',
  'instance.restarted': 'warn',
  'app.poll_failed': 'warn',
  'run.requeued': 'warn',
  'run.cancelled': 'warn',
};

export function eventLevel(kind: string): Level {
  return LEVEL_BY_KIND[kind] ?? (/(failed|failing|crashed|error)$/.test(kind) ? 'error' : 'info');
}

export function eventToRecord(e: OpEvent): NewLogRecord {
  const after = isObject(e.after) ? e.after : undefined;
  const release = typeof after?.release === 'string' ? after.release : null;
  const fields: Record<string, unknown> = { kind: e.kind, actor: e.actor };
  if (e.deployment) fields.deployment = e.deployment;
  if (e.before !== null && e.before !== undefined) fields.before = e.before;
  if (e.after !== null && e.after !== undefined) fields.after = e.after;
  return {
    ts: e.ts,
    app: e.app,
    env: e.env,
    release,
    instance: e.instance,
    source: 'event',
    stream: 'system',
    level: eventLevel(e.kind),
    message: e.message ?? summary(e.kind, after),
    fields,
  };
}

/** "instance.start.done pid=412 port=4001": the kind and what it changed to. */
function summary(kind: string, after: Record<string, unknown> | undefined): string {
  if (!after) return kind;
  const parts = Object.entries(after).map(([k, v]) => `${k}=${renderValue(v)}`);
  return [kind, ...parts].join(' ');
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

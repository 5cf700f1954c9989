// service: (how to run the app and check it is healthy) and artifact: (what to ship).
import { isScalar } from 'yaml';
import type { AppSpec, HealthSpec, ServiceSpec } from './types.ts';
import { fail, quote, type Ctx } from './locate.ts';
import { fieldsOf, isEmpty, itemsOf, mapOf, readDuration, readEnvVars, readInt, readString, required, typeError, type Slot } from './read.ts';
import { DEFAULTS, KEYS, MAX_INSTANCES } from './schema.ts';

export function readService(ctx: Ctx, slot: Slot): ServiceSpec {
  // Unlike optional sections, an empty `service:` is not "all defaults": command is required.
  mapOf(ctx, slot, 'e.g.\n  service:\n    command: node server.js');
  const fields = fieldsOf(ctx, slot, KEYS.service);
  const command = required(ctx, slot, fields, 'command', 'add command: <how to start one instance>, e.g. command: node server.js');
  const instances = fields.get('instances');
  const env = fields.get('env');
  const drain = fields.get('drain_timeout');
  const grace = fields.get('stop_grace');
  const health = fields.get('health');
  const metrics = fields.get('metrics');
  return {
    command: readString(ctx, command),
    instances: instances ? readInt(ctx, instances, 1, MAX_INSTANCES) : DEFAULTS.instances,
    health: readHealth(ctx, health),
    // 0 is meaningful for both: no drain wait / SIGKILL right after SIGTERM.
    drainTimeoutMs: drain ? readDuration(ctx, drain, 0) : DEFAULTS.drainTimeoutMs,
    stopGraceMs: grace ? readDuration(ctx, grace, 0) : DEFAULTS.stopGraceMs,
    env: env ? readEnvVars(ctx, env) : {},
    metrics: metrics && !isEmpty(metrics) ? readMetrics(ctx, metrics) : null,
  };
}

function readMetrics(ctx: Ctx, slot: Slot): NonNullable<ServiceSpec['metrics']> {
  const fields = fieldsOf(ctx, slot, KEYS.metrics);
  const path = required(ctx, slot, fields, 'path', 'e.g. metrics: {path: /metrics}');
  const interval = fields.get('interval');
  return {
    path: readHealthPath(ctx, path),
    intervalMs: interval ? readDuration(ctx, interval, 1000) : DEFAULTS.metricsIntervalMs,
  };
}

function readHealth(ctx: Ctx, slot: Slot | undefined): HealthSpec {
  const fields = slot ? fieldsOf(ctx, slot, KEYS.health) : new Map<string, Slot>();
  const path = fields.get('path');
  const interval = fields.get('interval');
  const timeout = fields.get('timeout');
  const deadline = fields.get('deadline');
  // Zero would mean a busy loop (interval) or a check that can never pass (timeout, deadline).
  return {
    path: path ? readHealthPath(ctx, path) : DEFAULTS.healthPath,
    intervalMs: interval ? readDuration(ctx, interval, 1) : DEFAULTS.healthIntervalMs,
    timeoutMs: timeout ? readDuration(ctx, timeout, 1) : DEFAULTS.healthTimeoutMs,
    deadlineMs: deadline ? readDuration(ctx, deadline, 1) : DEFAULTS.healthDeadlineMs,
  };
}

function readHealthPath(ctx: Ctx, slot: Slot): string {
  const path = readString(ctx, slot);
  // It is appended to http://127.0.0.1:<port>, so it must be an absolute path with no spaces.
  if (!path.startsWith('/') || /\s/.test(path)) {
    fail(ctx, 'spec.value', slot.at, `${slot.path}: ${quote(path)} is not a URL path`,
      'write a path starting with "/", without spaces, e.g. /healthz or /metrics');
  }
  return path;
}

// Paths come out normalised ("./dist/" → "dist") so later stages can compare and join them
// without re-checking. They are literal paths: glob characters are refused rather than
// silently matching nothing.
export function readArtifact(ctx: Ctx, slot: Slot | undefined): AppSpec['artifact'] {
  // No artifact section (or an empty one): ship the whole checkout.
  if (!slot || isEmpty(slot)) return { include: null };
  mapOf(ctx, slot, 'e.g.\n  artifact:\n    include: [server.js, package.json, node_modules]');
  const fields = fieldsOf(ctx, slot, KEYS.artifact);
  const includeSlot = required(ctx, slot, fields, 'include', 'add include: [<path>, ...], or remove artifact: to ship the whole checkout');
  if (isScalar(includeSlot.node) && typeof includeSlot.node.value === 'string') {
    typeError(ctx, includeSlot, 'a list', `write include: [${includeSlot.node.value}]`);
  }
  const items = itemsOf(ctx, includeSlot, 'write include: [<path>, ...]');
  if (items.length === 0) {
    fail(ctx, 'spec.value', includeSlot.at, `${includeSlot.path}: must list at least one path`,
      'list files or directories to ship, or remove artifact: to ship the whole checkout');
  }
  const seen = new Set<string>();
  return {
    include: items.map((item) => {
      const path = normalisePath(ctx, item, readString(ctx, item));
      if (seen.has(path)) fail(ctx, 'spec.value', item.at, `${item.path}: ${quote(path)} is listed twice`);
      seen.add(path);
      return path;
    }),
  };
}

function normalisePath(ctx: Ctx, slot: Slot, raw: string): string {
  const bad = (why: string, hint = 'write a path relative to the repository root, e.g. dist or server.js'): never =>
    fail(ctx, 'spec.value', slot.at, `${slot.path}: ${quote(raw)} ${why}`, hint);
  if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw)) bad('is an absolute path');
  if (raw.includes('\\')) bad('contains "\\"', 'use "/" to separate directories');
  if (/[*?]/.test(raw)) bad('looks like a glob pattern', 'globs are not supported; list the files or directories themselves');
  const segments = raw.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (segments.includes('..')) bad('leaves the repository (".." is not allowed)');
  if (segments.length === 0) bad('is the whole checkout', 'remove artifact: to ship the whole checkout');
  return segments.join('/');
}

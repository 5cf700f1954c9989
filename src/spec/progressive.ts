// Progressive strategies: blue/green and canary (with its analysis and header rules).
import { isScalar } from 'yaml';
import { fail, type Ctx } from './locate.ts';
import { fieldsOf, itemsOf, readBool, readDuration, readInt, readNumber, readString, required, type Slot } from './read.ts';
import { ANALYSIS_METRICS, DEFAULTS, KEYS } from './schema.ts';
import type { AnalysisMetric, AnalysisSpec, BlueGreenStrategy, CanaryStrategy, HeaderRule } from './types.ts';

const STEPS_HINT = 'list increasing percentages of traffic for the new release, each from 1 to 99, e.g. steps: [5, 25, 50]';

export function readBlueGreen(ctx: Ctx, slot: Slot): BlueGreenStrategy {
  const fields = fieldsOf(ctx, slot, KEYS.blueGreen);
  const preview = fields.get('preview');
  const probation = fields.get('probation');
  return {
    kind: 'blue_green',
    preview: preview ? readBool(ctx, preview) : false,
    probationMs: probation ? readDuration(ctx, probation, 0) : DEFAULTS.probationMs,
  };
}

export function readCanary(ctx: Ctx, slot: Slot): CanaryStrategy {
  const fields = fieldsOf(ctx, slot, KEYS.canary);
  const steps = readSteps(ctx, required(ctx, slot, fields, 'steps', STEPS_HINT));
  const duration = fields.get('step_duration');
  const baseline = fields.get('baseline');
  const analysis = fields.get('analysis');
  const probation = fields.get('probation');
  const match = fields.get('match');
  const stepDurationMs = duration ? readDuration(ctx, duration, 1) : DEFAULTS.stepDurationMs;
  const withBaseline = baseline ? readBool(ctx, baseline) : true;
  const over = steps.findIndex((w) => w > 50);
  if (withBaseline && over !== -1) {
    // The baseline takes the same share as the canary, so together they cannot pass 100%.
    const item = itemsOf(ctx, fields.get('steps')!)[over];
    fail(ctx, 'spec.value', item.at, `${item.path}: ${steps[over]}% with a baseline of the same size leaves ${100 - 2 * steps[over]}% for the stable release`,
      'with baseline: true keep every step at 50 or below, or set baseline: false');
  }
  return {
    kind: 'canary',
    steps,
    stepDurationMs,
    baseline: withBaseline,
    analysis: readAnalysis(ctx, analysis, stepDurationMs),
    probationMs: probation ? readDuration(ctx, probation, 0) : DEFAULTS.probationMs,
    match: match ? itemsOf(ctx, match, 'e.g. match: [{header: X-Beta-Tester, value: "1"}]').map((item) => readRule(ctx, item)) : [],
  };
}

function readSteps(ctx: Ctx, slot: Slot): number[] {
  const items = itemsOf(ctx, slot, STEPS_HINT);
  if (items.length === 0) fail(ctx, 'spec.value', slot.at, `${slot.path}: needs at least one step`, STEPS_HINT);
  const steps = items.map((item) => readInt(ctx, item, 1, 99));
  steps.forEach((weight, n) => {
    if (n > 0 && weight <= steps[n - 1]) {
      // Traffic only moves forward within a deployment; a step back is what abort/rollback are for.
      fail(ctx, 'spec.value', items[n].at, `${items[n].path}: ${weight} does not increase on the step before it (${steps[n - 1]})`, STEPS_HINT);
    }
  });
  return steps;
}

function readAnalysis(ctx: Ctx, slot: Slot | undefined, stepDurationMs: number): AnalysisSpec {
  const defaults: AnalysisSpec = {
    metrics: [...ANALYSIS_METRICS], confidence: DEFAULTS.confidence, tolerance: DEFAULTS.tolerance,
    intervalMs: Math.max(1, Math.floor(stepDurationMs / 3)), minRequests: DEFAULTS.minRequests,
  };
  if (!slot) return defaults;
  const f = fieldsOf(ctx, slot, KEYS.analysis);
  const get = <T>(key: string, read: (s: Slot) => T, fallback: T): T => { const s = f.get(key); return s ? read(s) : fallback; };
  const spec: AnalysisSpec = {
    metrics: get('metrics', (s) => readMetrics(ctx, s), defaults.metrics),
    confidence: get('confidence', (s) => readNumber(ctx, s, 0.5, 0.9999, 'a confidence between 0.5 and 0.9999, e.g. 0.98'), defaults.confidence),
    tolerance: get('tolerance', (s) => readNumber(ctx, s, 0, 10, 'a relative effect from 0 to 10, e.g. 0.25 for 25%'), defaults.tolerance),
    intervalMs: get('interval', (s) => readDuration(ctx, s, 1), defaults.intervalMs),
    minRequests: get('min_requests', (s) => readInt(ctx, s, 1, 1_000_000), defaults.minRequests),
  };
  const maxError = f.get('max_error_rate');
  if (maxError) spec.maxErrorRate = readNumber(ctx, maxError, 0, 1, 'a fraction from 0 to 1, e.g. 0.05 for 5%');
  const maxP99 = f.get('max_latency_p99');
  if (maxP99) spec.maxLatencyP99Ms = readDuration(ctx, maxP99, 1);
  if (spec.intervalMs > stepDurationMs) {
    fail(ctx, 'spec.value', f.get('interval')!.at, `${slot.path}.interval: longer than step_duration, so no step would ever be judged`, 'use an interval at most as long as step_duration');
  }
  return spec;
}

function readMetrics(ctx: Ctx, slot: Slot): AnalysisMetric[] {
  const hint = `known metrics: ${ANALYSIS_METRICS.join(', ')}`;
  return itemsOf(ctx, slot, hint).map((item) => {
    const name = readString(ctx, item, hint);
    if (!(ANALYSIS_METRICS as readonly string[]).includes(name)) fail(ctx, 'spec.value', item.at, `${item.path}: unknown metric "${name}"`, hint);
    return name as AnalysisMetric;
  });
}

function readRule(ctx: Ctx, slot: Slot): HeaderRule {
  const f = fieldsOf(ctx, slot, KEYS.headerRule);
  const header = readString(ctx, required(ctx, slot, f, 'header'));
  const valueSlot = required(ctx, slot, f, 'value');
  const node = valueSlot.node;
  const value = isScalar(node) && (typeof node.value === 'number' || typeof node.value === 'boolean') ? String(node.value) : readString(ctx, valueSlot);
  if (!/^[A-Za-z0-9-]+$/.test(header)) fail(ctx, 'spec.value', slot.at, `${slot.path}.header: "${header}" is not an HTTP header name`, 'letters, digits and "-", e.g. X-Beta-Tester');
  return { header: header.toLowerCase(), value };
}

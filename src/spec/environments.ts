// environments: a mapping from name to settings whose order is the promotion order
// (staging → production), and each environment's rollout strategy.
import { isMap, type ParsedNode } from 'yaml';
import type { EnvironmentSpec, RollingStrategy, StrategySpec } from './types.ts';
import { readBlueGreen, readCanary } from './progressive.ts';
import { fail, joinPath, quote, type Ctx, type Where } from './locate.ts';
import { fieldsOf, isEmpty, keyName, mapOf, readBool, readEnvVars, readInt, valueSlot, type Slot } from './read.ts';
import {
  DEFAULTS, ENV_NAME_MAX, KEYS, MAX_INSTANCES, MAX_ROLLING_STEP, NAME_HINT, NAME_PATTERN,
  RESERVED_ENV_SUFFIX, STRATEGY_NAMES, type StrategyName,
} from './schema.ts';

const EXAMPLE = 'e.g.\n  environments:\n    staging: {}\n    production: {approval: true}';

export function readEnvironments(ctx: Ctx, slot: Slot, serviceInstances: number): EnvironmentSpec[] {
  // No environments means nothing could ever be deployed; say that rather than "got nothing".
  if (isEmpty(slot) || (isMap(slot.node) && slot.node.items.length === 0)) {
    fail(ctx, 'spec.value', slot.at, `${slot.path}: define at least one environment`, EXAMPLE);
  }
  const map = mapOf(ctx, slot, `environments is a mapping from name to settings, in promotion order; ${EXAMPLE}`);
  // Map items keep source order, which is the promotion order the user wrote.
  return map.items.map((pair) => {
    const key = pair.key as ParsedNode | null;
    const name = keyName(ctx, key, map, slot.path);
    checkName(ctx, name, key ?? map);
    const envSlot = valueSlot(ctx, joinPath(slot.path, name), key ?? map, pair.value as ParsedNode | null);
    return readEnvironment(ctx, name, envSlot, serviceInstances);
  });
}

function checkName(ctx: Ctx, name: string, where: Where): void {
  if (!NAME_PATTERN.test(name) || name.length > ENV_NAME_MAX) {
    fail(ctx, 'spec.value', where, `environments: ${quote(name)} is not a valid environment name`, NAME_HINT(ENV_NAME_MAX, 'staging'));
  }
  if (name.endsWith(RESERVED_ENV_SUFFIX)) {
    fail(ctx, 'spec.value', where, `environments: ${quote(name)} ends in "${RESERVED_ENV_SUFFIX}", which is reserved`,
      `"<name>${RESERVED_ENV_SUFFIX}" environments are created by slipway for preview deploys; choose another name`);
  }
}

function readEnvironment(ctx: Ctx, name: string, slot: Slot, serviceInstances: number): EnvironmentSpec {
  // `staging:` with nothing (or {}) takes every default.
  const fields = fieldsOf(ctx, slot, KEYS.environment);
  const approval = fields.get('approval');
  const instances = fields.get('instances');
  const env = fields.get('env');
  const strategy = fields.get('strategy');
  return {
    name,
    approval: approval ? readBool(ctx, approval) : false,
    strategy: strategy ? readStrategy(ctx, strategy) : defaultStrategy(),
    instances: instances ? readInt(ctx, instances, 1, MAX_INSTANCES) : serviceInstances,
    env: env ? readEnvVars(ctx, env) : {},
  };
}

function defaultStrategy(): RollingStrategy {
  return { kind: 'rolling', maxSurge: DEFAULTS.maxSurge, maxUnavailable: DEFAULTS.maxUnavailable };
}

// One reader per strategy name; typing it by StrategyName makes a new name in schema.ts
// fail to compile until its reader exists here.
const STRATEGY_READERS: Record<StrategyName, (ctx: Ctx, slot: Slot) => StrategySpec> = {
  rolling: readRolling,
  blue_green: readBlueGreen,
  canary: readCanary,
};

const STRATEGY_HINT = `write exactly one of: ${STRATEGY_NAMES.join(', ')}; e.g. strategy: {rolling: {max_surge: 1, max_unavailable: 0}}`;

function readStrategy(ctx: Ctx, slot: Slot): StrategySpec {
  if (isEmpty(slot)) return defaultStrategy();
  const map = mapOf(ctx, slot, STRATEGY_HINT);
  if (map.items.length !== 1) {
    fail(ctx, 'spec.value', map, `${slot.path}: must name exactly one strategy, got ${map.items.length}`, STRATEGY_HINT);
  }
  const [pair] = map.items as [(typeof map.items)[number]];
  const key = pair.key as ParsedNode | null;
  const name = keyName(ctx, key, map, slot.path);
  if (!(STRATEGY_NAMES as readonly string[]).includes(name)) {
    fail(ctx, 'spec.value', key ?? map, `${slot.path}: unknown strategy ${quote(name)}`, `allowed strategies: ${STRATEGY_NAMES.join(', ')}`);
  }
  const inner = valueSlot(ctx, joinPath(slot.path, name), key ?? map, pair.value as ParsedNode | null);
  return STRATEGY_READERS[name as StrategyName](ctx, inner);
}

function readRolling(ctx: Ctx, slot: Slot): RollingStrategy {
  const fields = fieldsOf(ctx, slot, KEYS.rolling);
  const surge = fields.get('max_surge');
  const unavailable = fields.get('max_unavailable');
  const maxSurge = surge ? readInt(ctx, surge, 0, MAX_ROLLING_STEP) : DEFAULTS.maxSurge;
  const maxUnavailable = unavailable ? readInt(ctx, unavailable, 0, MAX_ROLLING_STEP) : DEFAULTS.maxUnavailable;
  if (maxSurge === 0 && maxUnavailable === 0) {
    // Zero extra instances and zero instances down: no instance could ever be replaced.
    fail(ctx, 'spec.value', slot.at, `${slot.path}: max_surge and max_unavailable are both 0, so a rollout could never make progress`,
      'set max_surge: 1 (start a new instance before stopping an old one) or max_unavailable: 1');
  }
  return { kind: 'rolling', maxSurge, maxUnavailable };
}

// From raw numbers to observations, one per group (app, env): which groups breach, by how much,
// and which instances are to blame. Pure: observe.ts fetches the numbers, this decides.
//
// Deployment awareness lives here (book §7.6, §14.6): instances being drained are left out
// rather than alerted on, and an environment in the middle of a deployment step gets its
// threshold relaxed by the deployment's factor instead of its alerts switched off.
import type {
  AbsenceCondition, DeploymentContext, LogRateCondition, Observation, RuleEntry, Series, Target, ThresholdCondition,
} from './types.ts';

export function appliesTo(entry: RuleEntry, app: string, env: string): boolean {
  if (entry.app !== null && entry.app !== app) return false;
  // App-scoped groups (env '') belong to every environment filter.
  return entry.rule.environments === null || env === '' || entry.rule.environments.includes(env);
}

/** The threshold in force for one environment: relaxed (never tightened) while a deployment step runs. */
export function effectiveThreshold(c: ThresholdCondition, factor: number | undefined): { threshold: number; scale: number | null } {
  if (factor === undefined || !Number.isFinite(factor) || factor <= 0 || factor === 1) return { threshold: c.threshold, scale: null };
  // A factor below 1 would make a deployment stricter than normal operation; read it as its inverse.
  const f = factor < 1 ? 1 / factor : factor;
  return { threshold: c.comparison === 'above' ? c.threshold * f : c.threshold / f, scale: f };
}

const breaches = (c: ThresholdCondition, value: number, threshold: number) =>
  c.comparison === 'above' ? value > threshold : value < threshold;

export function judgeThreshold(entry: RuleEntry, c: ThresholdCondition, series: Series[], deployments: DeploymentContext): Observation[] {
  const groups = new Map<string, { app: string; env: string; values: { instance: string; value: number }[]; suppressed: string[] }>();
  for (const s of series) {
    const app = s.labels.app ?? entry.app ?? '';
    const env = s.labels.env ?? '';
    if (app === '' || !Number.isFinite(s.value) || !appliesTo(entry, app, env)) continue;
    const key = `${app}/${env}`;
    const group = groups.get(key) ?? { app, env, values: [], suppressed: [] };
    groups.set(key, group);
    const instance = s.labels.instance ?? '';
    if (c.scope === 'instance' && instance !== '' && deployments.drainingInstances.has(instance)) group.suppressed.push(instance);
    else group.values.push({ instance, value: s.value });
  }
  const observations: Observation[] = [];
  for (const group of groups.values()) {
    // Only drained instances reported: nothing to judge, so the group is inactive.
    if (group.values.length === 0) continue;
    const rule = entry.rule;
    const { threshold, scale } = effectiveThreshold(c, rule.scaleDuringDeploy ? deployments.scaling.get(`${group.app}/${group.env}`) : undefined);
    const bad = group.values.filter((v) => breaches(c, v.value, threshold));
    const pool = bad.length > 0 ? bad : group.values;
    const worst = pool.reduce((a, b) => (c.comparison === 'above' ? (b.value > a.value ? b : a) : (b.value < a.value ? b : a)));
    const observation: Observation = {
      app: group.app, env: group.env, active: bad.length > 0, value: worst.value, threshold, scale,
      members: c.scope === 'instance' ? bad.map((v) => v.instance).filter((i) => i !== '').sort() : [],
    };
    if (group.suppressed.length > 0) observation.suppressed = group.suppressed.sort();
    observations.push(observation);
  }
  return observations;
}

/** One lastSeen question to ask, and where the clock starts if the event was never seen. */
export interface AbsenceProbe {
  app: string;
  env: string; // '' for app-scoped events
  instance?: string;
  match: Record<string, string>;
  reference: number;
}

/**
 * Which lastSeen questions an absence rule needs, given what is deployed. Drained instances are
 * not asked about. An event never seen counts as missing since the target was deployed, or, when
 * the sources do not say, since the engine started watching.
 */
export function absenceProbes(entry: RuleEntry, c: AbsenceCondition, targets: Target[], deployments: DeploymentContext, watchingSince: number): AbsenceProbe[] {
  const watched = targets.filter((t) => appliesTo(entry, t.app, t.env));
  if (c.scope === 'app') {
    const apps = new Map<string, number>();
    for (const t of watched) apps.set(t.app, Math.min(apps.get(t.app) ?? Infinity, t.since ?? watchingSince));
    return [...apps].map(([app, since]) => ({ app, env: '', match: { app }, reference: since }));
  }
  if (c.scope === 'environment') {
    return watched.map((t) => ({ app: t.app, env: t.env, match: { app: t.app, env: t.env }, reference: t.since ?? watchingSince }));
  }
  return watched.flatMap((t) => t.instances
    .filter((i) => !deployments.drainingInstances.has(i.id))
    // An instance that never reported is missing from its start, not from when slipway started.
    .map((i) => ({ app: t.app, env: t.env, instance: i.id, match: { app: t.app, env: t.env, instance: i.id }, reference: i.startedAt })));
}

export function judgeAbsence(c: AbsenceCondition, probes: AbsenceProbe[], lastSeen: (number | null)[], now: number): Observation[] {
  const groups = new Map<string, Observation & { worst: number }>();
  probes.forEach((probe, i) => {
    const seen = lastSeen[i] ?? null;
    const silent = Math.max(0, now - (seen ?? probe.reference));
    const missing = silent >= c.forMs;
    const key = `${probe.app}/${probe.env}`;
    const group = groups.get(key) ?? { app: probe.app, env: probe.env, active: false, value: 0, threshold: c.forMs, members: [], scale: null, lastSeen: seen, worst: -1 };
    groups.set(key, group);
    if (missing) {
      group.active = true;
      if (probe.instance !== undefined) group.members.push(probe.instance);
    }
    if (silent > group.worst) Object.assign(group, { worst: silent, value: silent, lastSeen: seen });
  });
  return [...groups.values()].map(({ worst: _, ...obs }) => ({ ...obs, members: obs.members.sort() }));
}

export function judgeLogRate(c: LogRateCondition, counts: { app: string; env: string; count: number }[]): Observation[] {
  return counts
    .filter((x) => Number.isFinite(x.count))
    .map((x) => ({ app: x.app, env: x.env, active: x.count > c.above, value: x.count, threshold: c.above, members: [], scale: null }));
}

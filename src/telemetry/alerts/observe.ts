// Asking the sources the questions one rule needs, then handing the answers to judge.ts.
// The only file in the evaluation path that awaits anything.
import { absenceProbes, appliesTo, judgeAbsence, judgeLogRate, judgeThreshold } from './judge.ts';
import type { AlertSources, DeploymentContext, Observation, RuleEntry, Target } from './types.ts';

/** What every rule of one evaluation round shares. */
export interface Round {
  now: number;
  deployments: DeploymentContext;
  /** Fetched at most once per round, and only if some rule needs it. */
  targets: () => Promise<Target[]>;
  watchingSince: number;
}

export async function observe(entry: RuleEntry, sources: AlertSources, round: Round): Promise<Observation[]> {
  const c = entry.rule.condition;
  if (c.kind === 'threshold') {
    const match: Record<string, string> = {};
    if (entry.app !== null) match.app = entry.app;
    // One environment can be filtered by the store; several are filtered in judge.
    const envs = entry.rule.environments;
    if (envs?.length === 1) match.env = envs[0]!;
    const by = c.scope === 'instance' ? ['app', 'env', 'instance'] : ['app', 'env'];
    const series = await sources.metric({ ...c.query, window: c.windowMs, match, by });
    return judgeThreshold(entry, c, series, round.deployments);
  }
  if (c.kind === 'absence') {
    const probes = absenceProbes(entry, c, await round.targets(), round.deployments, round.watchingSince);
    const seen = await Promise.all(probes.map((p) => sources.lastSeen({ event: c.event, match: p.match })));
    return judgeAbsence(c, probes, seen, round.now);
  }
  const targets = (await round.targets()).filter((t) => appliesTo(entry, t.app, t.env));
  const counts = await Promise.all(targets.map(async (t) => ({
    app: t.app,
    env: t.env,
    count: await sources.logCount({ pattern: c.pattern, window: c.windowMs, match: { app: t.app, env: t.env } }),
  })));
  return judgeLogRate(c, counts);
}

import type { Clock } from '../core/clock.ts';
import type { EventLog } from '../core/events.ts';
import { DEFAULT_ANALYSIS, judge } from '../analysis/judge.ts';
import type { AnalysisConfig, Observation } from '../analysis/types.ts';
import type { Router } from '../router/router.ts';
import type { AnalysisSpec, CanaryStrategy } from '../spec/types.ts';
import type { Store } from '../store/store.ts';
import type { Deployment, VerdictRecord } from '../store/types.ts';

/** A window missing for longer than a few controller ticks means the control plane restarted. */
const TICK_GRACE_MS = 1000;

interface Window {
  key: string;
  canary: Observation[];
  baseline: Observation[];
  lastJudgedAt: number;
  /** The newest verdict of this window: the only one the planner can use (older ones predate the step's clock). */
  latest?: Omit<VerdictRecord, 'id'>;
}

export function analysisConfig(strategy: CanaryStrategy): AnalysisConfig {
  const spec: AnalysisSpec = strategy.analysis;
  return {
    ...DEFAULT_ANALYSIS,
    metrics: spec.metrics, confidence: spec.confidence, tolerance: spec.tolerance, minObservations: spec.minRequests,
    maxErrorRate: spec.maxErrorRate, maxLatencyP99Ms: spec.maxLatencyP99Ms,
    // One look per interval plus the one at the step's end: the judge spreads its error budget over them.
    looks: Math.ceil(strategy.stepDurationMs / spec.intervalMs) + 1,
  };
}

/**
 * Feeds the judge: gathers the router's per-request observations of the canary and its
 * comparison group for the current step, and asks for a verdict every analysis interval and
 * once more when the step's time is up. Each verdict is stored with the numbers behind it.
 */
export class CanaryAnalysis {
  private readonly windows = new Map<string, Window>();
  private readonly store: Store;
  private readonly router: Router;
  private readonly events: EventLog;
  private readonly clock: Clock;

  constructor(deps: { store: Store; router: Router; events: EventLog; clock: Clock }) {
    this.store = deps.store;
    this.router = deps.router;
    this.events = deps.events;
    this.clock = deps.clock;
  }

  /** Latest verdict of the deployment's current step, judging first if one is due. */
  observe(dep: Deployment, strategy: CanaryStrategy): Omit<VerdictRecord, 'id'> | undefined {
    const now = this.clock.now();
    let w = this.windows.get(dep.id);
    if (!w && dep.stepStartedAt !== null && now - dep.stepStartedAt > TICK_GRACE_MS) {
      // A step already under way but no observations in memory: the control plane restarted.
      // Judging the step on the few requests seen since would likely be inconclusive, so the
      // step's clock starts again (same traffic weight) with a fresh window.
      this.store.updateDeployment(dep.id, { stepStartedAt: now });
      this.events.record({ kind: 'analysis.window_restarted', app: dep.app, env: dep.env, deployment: dep.id, after: { step: dep.step, weight: dep.weight }, message: 'observations were lost with the control plane; the step is observed again from now' });
      dep.stepStartedAt = now;
    }
    const key = `${dep.step}@${dep.stepStartedAt}`;
    const fresh = this.router.takeObservations(dep.app, dep.env);
    if (!w || w.key !== key) {
      // A new step (or a restart) starts a new observation window.
      w = { key, canary: [], baseline: [], lastJudgedAt: dep.stepStartedAt ?? now };
      this.windows.set(dep.id, w);
    } else {
      w.canary.push(...(fresh.canary ?? []));
      w.baseline.push(...((strategy.baseline ? fresh.baseline : fresh.stable) ?? []));
    }
    const stepEnd = (dep.stepStartedAt ?? now) + strategy.stepDurationMs;
    const due = now - w.lastJudgedAt >= strategy.analysis.intervalMs || (now >= stepEnd && w.lastJudgedAt < stepEnd);
    if (due) {
      w.lastJudgedAt = now;
      const v = judge(w.canary, w.baseline, analysisConfig(strategy));
      const record: Omit<VerdictRecord, 'id'> = {
        deployment: dep.id, step: dep.step, weight: dep.weight, ts: now, outcome: v.outcome, score: v.score,
        canaryCount: v.canaryCount, baselineCount: v.baselineCount, summary: v.summary, metrics: v.metrics,
      };
      this.store.insertVerdict(record);
      w.latest = record;
      this.events.record({ kind: 'analysis.verdict', app: dep.app, env: dep.env, deployment: dep.id, after: { step: dep.step, weight: dep.weight, outcome: v.outcome, score: v.score }, message: v.summary });
    }
    return w.latest;
  }

  forget(id: string): void {
    this.windows.delete(id);
  }
}

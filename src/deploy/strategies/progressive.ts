import type { BlueGreenStrategy, CanaryStrategy } from '../../spec/types.ts';
import type { Action, ActualInstance } from '../actions.ts';
import { reconcileSets, type InstanceSet, type SetLimits } from '../sets.ts';

// Blue/green and canary as phases of instance sets and traffic weights. Pure: the deployment's
// persisted progress, the instances and the latest analysis verdict come in; actions go out.

export interface Progress {
  state: 'progressing' | 'probation' | 'rolling_back';
  weight: number;
  step: number;
  stepStartedAt: number | null;
  probationUntil: number | null;
}

export interface ProgressiveInput {
  strategy: BlueGreenStrategy | CanaryStrategy;
  progress: Progress;
  newRelease: string;
  oldRelease: string;
  newCount: number;
  oldCount: number;
  /** The newest verdict of the current canary step, if any. */
  verdict?: { outcome: 'Successful' | 'Failed' | 'Inconclusive'; ts: number; summary: string };
  limits: SetLimits;
}

/** Canary instances for a traffic share: enough to carry it, at least one. */
export function canaryCount(total: number, weight: number): number {
  return Math.max(1, Math.min(total, Math.ceil((total * weight) / 100)));
}

export function planProgressive(input: ProgressiveInput, actual: ActualInstance[], now: number): Action[] {
  const { progress, strategy } = input;
  const sets = (extra: InstanceSet[] = [], withOld = true): InstanceSet[] => [
    ...(withOld ? [{ release: input.oldRelease, role: 'main' as const, count: input.oldCount }] : []),
    ...extra,
  ];
  // While rolling back, the old release is the one whose instances must not crash-loop.
  const rolloutRelease = progress.state === 'rolling_back' ? input.oldRelease : input.newRelease;
  const run = (wanted: InstanceSet[]) => reconcileSets(wanted, actual, now, { ...input.limits, rolloutRelease });

  if (progress.state === 'rolling_back') {
    // Traffic already went back in one stroke (weight 0); now the new set leaves.
    const r = run(sets());
    if (r.failure) return [{ kind: 'fail', reason: r.failure }];
    return r.settled ? [{ kind: 'complete' }] : r.actions;
  }

  if (progress.state === 'probation') {
    const over = now >= (progress.probationUntil ?? 0);
    // During probation the old set stays warm for an instant rollback; afterwards it retires.
    const r = run(sets([{ release: input.newRelease, role: 'main', count: input.newCount }], !over));
    if (r.failure) return [{ kind: 'fail', reason: r.failure }];
    return over && r.settled ? [{ kind: 'complete' }] : r.actions;
  }

  if (strategy.kind === 'blue_green') {
    const r = run(sets([{ release: input.newRelease, role: 'main', count: input.newCount }]));
    if (r.failure) return [{ kind: 'fail', reason: r.failure }];
    if (!r.ready) return r.actions;
    // step 1 = promoted: with a preview the switch waits for a person.
    if (strategy.preview && progress.step === 0) return [...r.actions, { kind: 'pause', reason: 'preview ready: the new release answers on the -preview host; `slipway promote` switches traffic', afterStep: false }];
    return [...r.actions, { kind: 'setWeight', weight: 100 }, { kind: 'probation', until: now + strategy.probationMs }];
  }
  return planCanary(input, strategy, run, sets, now);
}

function planCanary(input: ProgressiveInput, strategy: CanaryStrategy, run: (s: InstanceSet[]) => ReturnType<typeof reconcileSets>,
  sets: (extra?: InstanceSet[]) => InstanceSet[], now: number): Action[] {
  const { progress } = input;
  if (progress.step >= strategy.steps.length) {
    // Last stretch: the new release at full size, then all traffic, then probation.
    const r = run(sets([{ release: input.newRelease, role: 'main', count: input.newCount }]));
    if (r.failure) return [{ kind: 'fail', reason: r.failure }];
    if (!r.ready) return r.actions;
    return [...r.actions, { kind: 'setWeight', weight: 100 }, { kind: 'probation', until: now + strategy.probationMs }];
  }
  const weight = strategy.steps[progress.step];
  const count = canaryCount(input.newCount, weight);
  const extra: InstanceSet[] = [{ release: input.newRelease, role: 'main', count }];
  if (strategy.baseline) extra.push({ release: input.oldRelease, role: 'baseline', count });
  const r = run(sets(extra));
  if (r.failure) return [{ kind: 'fail', reason: r.failure }];
  if (!r.ready) return r.actions;
  if (progress.weight !== weight || progress.stepStartedAt === null) return [...r.actions, { kind: 'setWeight', weight }];

  const verdict = input.verdict && input.verdict.ts >= progress.stepStartedAt ? input.verdict : undefined;
  if (verdict?.outcome === 'Failed') return [{ kind: 'fail', reason: `analysis failed at ${weight}%: ${verdict.summary}` }];
  const stepEnd = progress.stepStartedAt + strategy.stepDurationMs;
  // The step ends on a verdict taken after its full duration, so the last interval counts too.
  if (now < stepEnd || !verdict || verdict.ts < stepEnd) return r.actions;
  if (verdict.outcome === 'Successful') return [...r.actions, { kind: 'nextStep' }];
  return [...r.actions, { kind: 'pause', reason: `analysis inconclusive at ${weight}%: ${verdict.summary}`, afterStep: true }];
}

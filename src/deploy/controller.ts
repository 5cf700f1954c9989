import type { Clock } from '../core/clock.ts';
import type { EventLog } from '../core/events.ts';
import type { Router } from '../router/router.ts';
import type { Store } from '../store/store.ts';
import type { Deployment, DeploymentEnding, Instance, Release } from '../store/types.ts';
import type { Action, ActualInstance } from './actions.ts';
import { CanaryAnalysis } from './analysis.ts';
import type { InstanceManager } from './instances.ts';
import { planProgressive } from './strategies/progressive.ts';
import { planRolling } from './strategies/rolling.ts';

const TICK_MS = 200;

export interface ControllerDeps {
  store: Store;
  events: EventLog;
  clock: Clock;
  instances: InstanceManager;
  router: Router;
  onCommitted: (d: Deployment) => void;
}

/**
 * The applier: observe → plan → act, one deployment per environment at a time. Each action is
 * recorded before and after it runs; all state lives in the store, so after a crash the next
 * tick simply re-plans from what is there, with the same traffic weights.
 */
export class DeployController {
  private readonly d: ControllerDeps;
  private readonly analysis: CanaryAnalysis;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private again = false;

  constructor(deps: ControllerDeps) {
    this.d = deps;
    this.analysis = new CanaryAnalysis(deps);
  }

  start(): void {
    this.timer = setInterval(() => this.kick(), TICK_MS);
    this.kick();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking;
  }

  /** Run a tick soon; ticks never overlap. */
  kick(): void {
    if (this.ticking) { this.again = true; return; }
    this.ticking = this.tick()
      .catch((err) => console.error('slipway: controller tick failed:', err))
      .finally(() => {
        this.ticking = undefined;
        if (this.again && this.timer) { this.again = false; setImmediate(() => this.kick()); }
      });
  }

  private async tick(): Promise<void> {
    const { store, instances } = this.d;
    const active = store.activeDeployments();
    const targets = new Map<string, string>();
    for (const dep of active) if (dep.state !== 'pending') targets.set(`${dep.app}/${dep.env}`, target(dep));
    await instances.supervise((i: Instance) => i.routed || i.releaseId === (targets.get(`${i.app}/${i.env}`) ?? store.getEnvironment(i.app, i.env)?.currentRelease));
    const busy = new Set<string>();
    for (const dep of active) {
      const key = `${dep.app}/${dep.env}`;
      if (busy.has(key)) continue;
      if (dep.state === 'pending' && dep.trigger === 'pipeline' && store.getEnvironment(dep.app, dep.env)?.autoPaused) continue;
      busy.add(key);
      if (dep.state === 'paused') continue;
      await this.step(dep.state === 'pending' ? this.begin(dep) : dep);
    }
  }

  /** A deployment's "from" is whatever the environment runs when it actually begins. */
  private begin(dep: Deployment): Deployment {
    const { store, clock, events } = this.d;
    const from = store.getEnvironment(dep.app, dep.env)?.currentRelease ?? null;
    const patch = { state: 'progressing' as const, fromRelease: from, startedAt: clock.now() };
    store.updateDeployment(dep.id, patch);
    events.record({ kind: 'deployment.started', app: dep.app, env: dep.env, deployment: dep.id, before: { state: 'pending' }, after: { state: 'progressing', from, to: dep.toRelease, strategy: dep.strategy.kind } });
    return { ...dep, ...patch };
  }

  private async step(dep: Deployment): Promise<void> {
    const { store, router, clock } = this.d;
    const release = store.getRelease(target(dep));
    if (!release) return this.finish(dep, 'failed', `release ${target(dep)} is missing`);
    const actual: ActualInstance[] = store.liveInstances(dep.app, dep.env).map((i) => ({
      id: i.id, release: i.releaseId, role: i.role, state: i.state as ActualInstance['state'], healthy: i.healthy, routed: i.routed,
      createdAt: i.createdAt, drainStartedAt: i.drainStartedAt, inFlight: router.inFlight(i.id), restarts: i.restarts,
    }));
    for (const action of this.plan(dep, release, actual, clock.now())) {
      if (!(await this.apply(dep, action))) return;
    }
  }

  private plan(dep: Deployment, release: Release, actual: ActualInstance[], now: number): Action[] {
    const { store } = this.d;
    const limits = { healthyDeadlineMs: release.config.health.deadlineMs, drainTimeoutMs: release.config.drainTimeoutMs };
    const strategy = dep.strategy;
    // With nothing running yet there is nothing to protect or compare: every strategy starts like rolling.
    if (strategy.kind === 'rolling' || !dep.fromRelease) {
      const rolling = strategy.kind === 'rolling' ? strategy : { maxSurge: release.config.instances, maxUnavailable: 0 };
      return planRolling({ release: release.id, instances: release.config.instances, ...rolling, ...limits }, actual, now);
    }
    const newRelease = store.getRelease(dep.toRelease)!;
    const oldRelease = store.getRelease(dep.fromRelease)!;
    const verdict = strategy.kind === 'canary' && dep.state === 'progressing' && dep.stepStartedAt !== null && dep.step < strategy.steps.length
      ? this.analysis.observe(dep, strategy) : undefined;
    return planProgressive({
      strategy, newRelease: newRelease.id, oldRelease: oldRelease.id, newCount: newRelease.config.instances, oldCount: oldRelease.config.instances,
      progress: { state: dep.state as 'progressing' | 'probation' | 'rolling_back', weight: dep.weight, step: dep.step, stepStartedAt: dep.stepStartedAt, probationUntil: dep.probationUntil },
      verdict, limits: { healthyDeadlineMs: newRelease.config.health.deadlineMs, drainTimeoutMs: newRelease.config.drainTimeoutMs },
    }, actual, now);
  }

  /** Returns false when the deployment left its current state and the remaining actions are moot. */
  private async apply(dep: Deployment, action: Action): Promise<boolean> {
    const { instances, store, events, clock } = this.d;
    const base = { app: dep.app, env: dep.env, deployment: dep.id };
    switch (action.kind) {
      case 'start': {
        const release = store.getRelease(action.release)!;
        try {
          await instances.start(release, dep.id, action.role);
        } catch (err) {
          // e.g. an artifact that fails verification: retrying every tick would never succeed.
          this.fail(dep, `could not start an instance of ${release.version}: ${(err as Error).message}`);
          return false;
        }
        return true;
      }
      case 'route':
        instances.route(action.instance, dep.id);
        return true;
      case 'drain':
        instances.drain(action.instance, dep.id);
        return true;
      case 'stop':
        void instances.stop(action.instance, dep.id, action.reason);
        return true;
      case 'setWeight': {
        const patch = { weight: action.weight, stepStartedAt: clock.now() };
        store.updateDeployment(dep.id, patch);
        events.record({ ...base, kind: 'traffic.shifted', before: { weight: dep.weight }, after: { weight: action.weight, step: dep.step }, message: `${action.weight}% of traffic on the new release` });
        Object.assign(dep, patch);
        instances.refreshRoutes(dep.app, dep.env);
        return true;
      }
      case 'nextStep':
        store.updateDeployment(dep.id, { step: dep.step + 1, stepStartedAt: null });
        events.record({ ...base, kind: 'deployment.step', before: { step: dep.step }, after: { step: dep.step + 1 } });
        return false;
      case 'probation':
        store.updateDeployment(dep.id, { state: 'probation', probationUntil: action.until });
        events.record({ ...base, kind: 'deployment.probation', before: { state: dep.state }, after: { state: 'probation', until: new Date(action.until).toISOString() } });
        this.analysis.forget(dep.id);
        instances.refreshRoutes(dep.app, dep.env);
        return false;
      case 'pause':
        store.updateDeployment(dep.id, { state: 'paused', pausedFrom: action.afterStep ? 'step_end' : dep.state, reason: action.reason });
        events.record({ ...base, kind: 'deployment.paused', before: { state: dep.state }, after: { state: 'paused' }, message: action.reason });
        instances.refreshRoutes(dep.app, dep.env);
        return false;
      case 'fail':
        this.fail(dep, action.reason);
        return false;
      case 'complete':
        this.complete(dep);
        return false;
    }
  }

  private fail(dep: Deployment, reason: string): void {
    const { store, events, instances } = this.d;
    this.analysis.forget(dep.id);
    if (dep.state !== 'rolling_back' && dep.fromRelease) {
      startRollback(this.d, dep, 'failed', reason, 'slipway');
      return;
    }
    // Nothing to go back to (first deployment), or the way back failed too: stop what is not serving.
    for (const i of store.liveInstances(dep.app, dep.env)) {
      if (i.releaseId === dep.toRelease && !i.routed) void instances.stop(i.id, dep.id, 'deployment failed');
    }
    events.record({ app: dep.app, env: dep.env, deployment: dep.id, kind: 'deployment.failing', message: reason });
    this.finish(dep, 'failed', dep.state === 'rolling_back' ? `${dep.reason}; rolling back failed too: ${reason}` : reason);
  }

  private complete(dep: Deployment): void {
    const { store, clock } = this.d;
    this.analysis.forget(dep.id);
    if (dep.state === 'rolling_back') {
      const back = store.getRelease(dep.fromRelease!);
      const ending = dep.ending ?? 'failed';
      this.finish(dep, ending, `${dep.reason ?? ending}; back on ${back?.version ?? dep.fromRelease}`);
      return;
    }
    store.setCurrentRelease(dep.app, dep.env, dep.toRelease, clock.now());
    this.finish(dep, 'committed', null);
    this.d.onCommitted({ ...dep, state: 'committed' });
  }

  private finish(dep: Deployment, state: 'committed' | DeploymentEnding, reason: string | null): void {
    const { store, events, clock, instances } = this.d;
    store.updateDeployment(dep.id, { state, reason, finishedAt: clock.now(), weight: state === 'committed' ? 100 : 0 });
    events.record({ app: dep.app, env: dep.env, deployment: dep.id, kind: `deployment.${state}`, before: { state: dep.state }, after: { state }, message: reason });
    instances.refreshRoutes(dep.app, dep.env);
    console.error(`slipway: deployment ${dep.id} ${state}${reason ? `: ${reason}` : ''}`);
  }
}

function target(dep: Deployment): string {
  return dep.state === 'rolling_back' && dep.fromRelease ? dep.fromRelease : dep.toRelease;
}

/**
 * Sends all traffic back to the previous release in one stroke (a weight change), then lets the
 * planner remove the new instances. Used by failed analysis, `slipway rollback` and `abort`.
 */
export function startRollback(d: { store: Store; events: EventLog; instances: InstanceManager }, dep: Deployment, ending: DeploymentEnding, reason: string, actor: string): void {
  d.store.updateDeployment(dep.id, { state: 'rolling_back', ending, reason, weight: 0, pausedFrom: null });
  d.events.record({ app: dep.app, env: dep.env, deployment: dep.id, actor, kind: 'deployment.rolling_back', before: { state: dep.state, weight: dep.weight }, after: { state: 'rolling_back', weight: 0 }, message: reason });
  d.instances.refreshRoutes(dep.app, dep.env);
}

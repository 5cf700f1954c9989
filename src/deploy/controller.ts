import type { Clock } from '../core/clock.ts';
import type { EventLog } from '../core/events.ts';
import type { Router } from '../router/router.ts';
import type { Store } from '../store/store.ts';
import type { Deployment, Instance } from '../store/types.ts';
import type { InstanceManager } from './instances.ts';
import { plan, type Action, type ActualInstance, type Desired } from './plan.ts';

const TICK_MS = 200;

export interface ControllerDeps {
  store: Store;
  events: EventLog;
  clock: Clock;
  instances: InstanceManager;
  router: Router;
  onSucceeded: (d: Deployment) => void;
}

/**
 * The applier: observe → plan → act, one deployment per environment at a time. Each action is
 * recorded before and after it runs; all state lives in the store, so after a crash the next
 * tick simply re-plans from what is there.
 */
export class DeployController {
  private readonly d: ControllerDeps;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private again = false;

  constructor(deps: ControllerDeps) {
    this.d = deps;
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
    for (const dep of active) if (dep.state !== 'pending') targets.set(`${dep.app}/${dep.env}`, this.target(dep));
    await instances.supervise((i: Instance) => i.routed || i.releaseId === (targets.get(`${i.app}/${i.env}`) ?? store.getEnvironment(i.app, i.env)?.currentRelease));
    const busy = new Set<string>();
    for (const dep of active) {
      const key = `${dep.app}/${dep.env}`;
      if (busy.has(key)) continue;
      busy.add(key);
      await this.step(dep.state === 'pending' ? this.begin(dep) : dep);
    }
  }

  private target(dep: Deployment): string {
    return dep.state === 'rolling_back' && dep.fromRelease ? dep.fromRelease : dep.toRelease;
  }

  /** A deployment's "from" is whatever the environment runs when it actually begins. */
  private begin(dep: Deployment): Deployment {
    const { store, clock, events } = this.d;
    const from = store.getEnvironment(dep.app, dep.env)?.currentRelease ?? null;
    const patch = { state: 'progressing' as const, fromRelease: from, startedAt: clock.now() };
    store.updateDeployment(dep.id, patch);
    events.record({ kind: 'deployment.started', app: dep.app, env: dep.env, deployment: dep.id, before: { state: 'pending' }, after: { state: 'progressing', from, to: dep.toRelease } });
    return { ...dep, ...patch };
  }

  private async step(dep: Deployment): Promise<void> {
    const { store, router, clock } = this.d;
    const release = store.getRelease(this.target(dep));
    if (!release) return this.finish(dep, 'failed', `release ${this.target(dep)} is missing`);
    const desired: Desired = {
      release: release.id,
      instances: release.config.instances,
      maxSurge: dep.strategy.maxSurge,
      maxUnavailable: dep.strategy.maxUnavailable,
      healthyDeadlineMs: release.config.health.deadlineMs,
      drainTimeoutMs: release.config.drainTimeoutMs,
    };
    const actual: ActualInstance[] = store.liveInstances(dep.app, dep.env).map((i) => ({
      id: i.id, release: i.releaseId, state: i.state as ActualInstance['state'], healthy: i.healthy, routed: i.routed,
      createdAt: i.createdAt, drainStartedAt: i.drainStartedAt, inFlight: router.inFlight(i.id),
    }));
    let started = actual.filter((i) => i.release === release.id).length;
    for (const action of plan(desired, actual, clock.now())) {
      if (action.kind === 'start') started++;
      if (!(await this.apply(dep, action, started))) return;
    }
  }

  /** Returns false when the deployment left its current state and the remaining actions are moot. */
  private async apply(dep: Deployment, action: Action, ordinal: number): Promise<boolean> {
    const { instances, store } = this.d;
    switch (action.kind) {
      case 'start': {
        await instances.start(store.getRelease(this.target(dep))!, dep.id, ordinal);
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
    if (dep.state === 'progressing' && dep.fromRelease) {
      store.updateDeployment(dep.id, { state: 'rolling_back', reason });
      events.record({ app: dep.app, env: dep.env, deployment: dep.id, kind: 'deployment.rolling_back', before: { state: dep.state }, after: { state: 'rolling_back' }, message: reason });
      return;
    }
    // Nothing to go back to (first deployment), or the way back failed too: stop what is not serving.
    for (const i of store.liveInstances(dep.app, dep.env)) {
      if (i.releaseId === dep.toRelease && !i.routed) void instances.stop(i.id, dep.id, 'deployment failed');
    }
    this.finish(dep, 'failed', dep.state === 'rolling_back' ? `${dep.reason}; rolling back failed too: ${reason}` : reason);
  }

  private complete(dep: Deployment): void {
    const { store, clock } = this.d;
    if (dep.state === 'rolling_back') {
      const back = store.getRelease(dep.fromRelease!);
      return this.finish(dep, 'failed', `${dep.reason}; rolled back to ${back?.version ?? dep.fromRelease}`);
    }
    store.setCurrentRelease(dep.app, dep.env, dep.toRelease, clock.now());
    this.finish(dep, 'succeeded', null);
    this.d.onSucceeded({ ...dep, state: 'succeeded' });
  }

  private finish(dep: Deployment, state: 'succeeded' | 'failed', reason: string | null): void {
    const { store, events, clock } = this.d;
    store.updateDeployment(dep.id, { state, reason, finishedAt: clock.now() });
    events.record({ app: dep.app, env: dep.env, deployment: dep.id, kind: `deployment.${state}`, before: { state: dep.state }, after: { state }, message: reason });
    console.error(`slipway: deployment ${dep.id} ${state}${reason ? `: ${reason}` : ''}`);
  }
}

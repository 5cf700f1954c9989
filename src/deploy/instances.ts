import type { Clock } from '../core/clock.ts';
import type { EventLog } from '../core/events.ts';
import { canConnect, freePort } from '../core/net.ts';
import type { ArtifactStore } from '../artifact/store.ts';
import { HealthMonitor } from '../registry/health.ts';
import type { Router } from '../router/router.ts';
import type { RuntimeDriver } from '../runtime/driver.ts';
import type { Store } from '../store/store.ts';
import type { Instance, Release } from '../store/types.ts';
import { routesFor } from './traffic.ts';

const MAX_BACKOFF_MS = 30_000;
export const restartBackoff = (restarts: number) => Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(restarts, 5));

export interface InstanceDeps {
  store: Store;
  driver: RuntimeDriver;
  router: Router;
  events: EventLog;
  clock: Clock;
  artifacts: ArtifactStore;
  /** Something changed that the controller should look at soon. */
  kick: () => void;
}

/**
 * Owns instance processes and their place in the router: start, route, drain, stop, restart on
 * crash and re-adopt after a control-plane restart. Every change is written to the store first.
 */
export class InstanceManager {
  readonly health: HealthMonitor;
  private readonly d: InstanceDeps;
  private readonly stopping = new Map<string, Promise<void>>();
  private closed = false;

  constructor(deps: InstanceDeps) {
    this.d = deps;
    this.health = new HealthMonitor((id, healthy) => this.onHealth(id, healthy));
  }

  async start(release: Release, deployment: string | null, role: Instance['role']): Promise<Instance> {
    const { store, clock, events } = this.d;
    // Verified and unpacked before anything is recorded: a bad artifact fails here, leaving no instance behind.
    await this.d.artifacts.unpacked(release.artifact);
    const id = `${release.app}-${release.env}-${release.version}${role === 'baseline' ? '-baseline' : ''}-${Math.random().toString(36).slice(2, 8)}`;
    const port = await freePort();
    const now = clock.now();
    const instance: Instance = {
      id, app: release.app, env: release.env, releaseId: release.id, version: release.version, role, port, pid: null,
      state: 'starting', healthy: false, routed: false, restarts: 0, createdAt: now, startedAt: null,
      healthyAt: null, drainStartedAt: null, stoppedAt: null, lastError: null,
    };
    store.insertInstance(instance);
    events.record({ kind: 'instance.start.intent', app: release.app, env: release.env, deployment, instance: id, after: { release: release.version, role, port } });
    await this.spawn(instance, release);
    events.record({ kind: 'instance.start.done', app: release.app, env: release.env, deployment, instance: id, after: { pid: instance.pid, port } });
    return instance;
  }

  private async spawn(instance: Instance, release: Release): Promise<void> {
    const workdir = await this.d.artifacts.unpacked(release.artifact);
    const proc = await this.d.driver.start({
      id: instance.id, app: instance.app, env: instance.env, version: instance.version, workdir,
      command: release.config.command, port: instance.port, vars: release.config.env,
    });
    instance.pid = proc.pid;
    instance.startedAt = this.d.clock.now();
    this.d.store.updateInstance(instance.id, { pid: proc.pid, startedAt: instance.startedAt });
    this.track(instance, release);
  }

  private track(instance: Instance, release: Release, known?: boolean): void {
    const h = release.config.health;
    this.health.track({ id: instance.id, port: instance.port, path: h.path, intervalMs: h.intervalMs, timeoutMs: h.timeoutMs }, known);
  }

  route(id: string, deployment: string | null): void {
    const i = this.d.store.getInstance(id);
    if (!i) return;
    this.d.store.updateInstance(id, { routed: true });
    this.d.events.record({ kind: 'instance.routed', app: i.app, env: i.env, deployment, instance: id, before: { routed: false }, after: { routed: true } });
    this.refreshRoutes(i.app, i.env);
  }

  drain(id: string, deployment: string | null): void {
    const i = this.d.store.getInstance(id);
    if (!i) return;
    this.d.store.updateInstance(id, { routed: false, state: 'draining', drainStartedAt: this.d.clock.now() });
    this.d.events.record({ kind: 'instance.draining', app: i.app, env: i.env, deployment, instance: id, before: { state: i.state, routed: i.routed }, after: { state: 'draining', routed: false } });
    this.health.untrack(id);
    this.refreshRoutes(i.app, i.env);
  }

  /** Marks the instance stopping now and finishes the SIGTERM → SIGKILL in the background. */
  stop(id: string, deployment: string | null, reason: string): Promise<void> {
    const existing = this.stopping.get(id);
    if (existing) return existing;
    const i = this.d.store.getInstance(id);
    if (!i || i.state === 'stopped') return Promise.resolve();
    const graceMs = this.d.store.getRelease(i.releaseId)?.config.stopGraceMs ?? 10_000;
    this.d.store.updateInstance(id, { state: 'stopping', routed: false, healthy: false });
    this.d.events.record({ kind: 'instance.stop.intent', app: i.app, env: i.env, deployment, instance: id, before: { state: i.state }, after: { state: 'stopping' }, message: reason });
    this.health.untrack(id);
    this.refreshRoutes(i.app, i.env);
    const done = (async () => {
      if (i.pid) await this.d.driver.stop({ id, pid: i.pid }, graceMs);
      // The control plane stopped meanwhile: the record stays "stopping" and recovery finishes it.
      if (this.closed) return;
      this.d.store.updateInstance(id, { state: 'stopped', stoppedAt: this.d.clock.now() });
      this.d.events.record({ kind: 'instance.stop.done', app: i.app, env: i.env, deployment, instance: id, before: { state: 'stopping' }, after: { state: 'stopped' } });
      this.stopping.delete(id);
      this.d.kick();
    })();
    this.stopping.set(id, done);
    return done;
  }

  /** The store is about to close: background stops must not write to it any more. */
  close(): void {
    this.closed = true;
    this.health.stop();
  }

  /** Pushes the env's routable instances, weighted by the deployment in flight, to the router. */
  refreshRoutes(app: string, env: string): void {
    const routes = routesFor(this.d.store.liveInstances(app, env), this.d.store.inFlightDeployment(app, env));
    this.d.router.setRoute(app, env, routes.main);
    if (routes.preview) this.d.router.setRoute(app, `${env}-preview`, routes.preview);
    else this.d.router.removeRoute(app, `${env}-preview`);
  }

  /** The router saw a connection fail: out of rotation now, back when a probe passes. */
  connectionFailed(id: string): void {
    this.onHealth(id, false);
    this.health.markUnhealthy(id);
  }

  private onHealth(id: string, healthy: boolean): void {
    const i = this.d.store.getInstance(id);
    if (!i || i.healthy === healthy || (i.state !== 'starting' && i.state !== 'running')) return;
    const now = this.d.clock.now();
    this.d.store.updateInstance(id, healthy ? { healthy, state: 'running', healthyAt: i.healthyAt ?? now } : { healthy });
    this.d.events.record({ kind: healthy ? 'instance.healthy' : 'instance.unhealthy', app: i.app, env: i.env, instance: id, before: { healthy: i.healthy }, after: { healthy } });
    this.refreshRoutes(i.app, i.env);
    this.d.kick();
  }

  /**
   * Crash detection and restart with backoff. `keep(i)` says whether a crashed instance is still
   * wanted (serving, or of the release being rolled out); the planner removes the rest.
   */
  async supervise(keep: (i: Instance) => boolean): Promise<void> {
    const { store, driver, clock, events } = this.d;
    const now = clock.now();
    for (const i of store.liveInstances()) {
      if ((i.state === 'starting' || i.state === 'running') && i.pid !== null && !driver.isAlive({ id: i.id, pid: i.pid })) {
        store.updateInstance(i.id, { state: 'crashed', healthy: false, stoppedAt: now, lastError: 'process exited' });
        events.record({ kind: 'instance.crashed', app: i.app, env: i.env, instance: i.id, before: { state: i.state, pid: i.pid }, after: { state: 'crashed' }, message: `instance ${i.id} (pid ${i.pid}) exited; restart in ${restartBackoff(i.restarts) / 1000}s` });
        this.health.untrack(i.id);
        this.refreshRoutes(i.app, i.env);
        console.error(`slipway: instance ${i.id} of ${i.app}/${i.env} exited unexpectedly (restart ${i.restarts + 1} in ${restartBackoff(i.restarts) / 1000}s)`);
      } else if (i.state === 'crashed' && keep(i) && now >= (i.stoppedAt ?? 0) + restartBackoff(i.restarts)) {
        const release = store.getRelease(i.releaseId);
        if (!release) continue;
        const port = await freePort();
        store.updateInstance(i.id, { state: 'starting', port, restarts: i.restarts + 1, pid: null });
        const restarted = { ...i, port, restarts: i.restarts + 1, state: 'starting' as const };
        try {
          await this.spawn(restarted, release);
        } catch (err) {
          // Back to crashed, so the next try comes after the (longer) backoff rather than never.
          store.updateInstance(i.id, { state: 'crashed', stoppedAt: clock.now(), lastError: `restart failed: ${(err as Error).message}` });
          events.record({ kind: 'instance.restart_failed', app: i.app, env: i.env, instance: i.id, message: (err as Error).message });
          continue;
        }
        events.record({ kind: 'instance.restarted', app: i.app, env: i.env, instance: i.id, after: { pid: restarted.pid, port, restarts: restarted.restarts } });
      }
    }
  }

  /**
   * After a control-plane restart: the processes are the truth. Re-adopt what still runs (same
   * instance id in its environment, port answering), record what died, kill what nobody owns.
   */
  async recover(): Promise<void> {
    const { store, driver, events } = this.d;
    const running = driver.discover();
    const keep = new Set<string>();
    const envs = new Set<string>();
    for (const i of store.liveInstances()) {
      envs.add(`${i.app}\u0000${i.env}`);
      const pid = running.get(i.id);
      if (pid === undefined) {
        const gone = i.state === 'stopping' || i.state === 'draining';
        store.updateInstance(i.id, gone ? { state: 'stopped', routed: false, healthy: false } : { state: 'crashed', healthy: false, stoppedAt: this.d.clock.now(), lastError: 'not running after control-plane restart' });
        events.record({ kind: gone ? 'instance.stop.done' : 'instance.crashed', app: i.app, env: i.env, instance: i.id, message: 'found not running after control-plane restart' });
        continue;
      }
      keep.add(i.id);
      const adopted = { ...i, pid };
      if (pid !== i.pid) store.updateInstance(i.id, { pid });
      events.record({ kind: 'instance.adopted', app: i.app, env: i.env, instance: i.id, after: { pid, port: i.port, state: i.state } });
      if (i.state === 'stopping') { void this.stop(i.id, null, 'resuming stop after restart'); continue; }
      if (i.state === 'crashed') store.updateInstance(i.id, { state: 'starting' });
      if (i.state === 'draining') continue;
      const answering = await canConnect(i.port);
      if (!answering) store.updateInstance(i.id, { healthy: false });
      const release = store.getRelease(i.releaseId);
      if (release) this.track(adopted, release, answering ? i.healthy : false);
    }
    for (const stray of driver.killStrays(keep)) {
      events.record({ kind: 'instance.orphan_killed', message: `killed stray process ${stray}` });
    }
    for (const key of envs) {
      const [app, env] = key.split('\u0000');
      this.refreshRoutes(app, env);
    }
  }

}

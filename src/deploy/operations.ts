import type { Clock } from '../core/clock.ts';
import { conflict, notFound } from '../core/errors.ts';
import type { EventLog } from '../core/events.ts';
import type { Store } from '../store/store.ts';
import type { Deployment } from '../store/types.ts';
import { startRollback } from './controller.ts';
import type { InstanceManager } from './instances.ts';
import type { Promotion } from './promotion.ts';

export interface OperationsDeps {
  store: Store;
  events: EventLog;
  clock: Clock;
  instances: InstanceManager;
  promotion: Promotion;
  kick: () => void;
}

/**
 * What a person does to a deployment: promote, pause, resume, abort, roll back. Each checks it
 * makes sense first (and changes nothing when it does not), then records who did it.
 */
export class Operations {
  private readonly d: OperationsDeps;

  constructor(deps: OperationsDeps) {
    this.d = deps;
  }

  /** Skips the remaining canary steps, switches a blue/green preview, or ends probation now. */
  promote(app: string, env: string, actor: string): Deployment {
    const dep = this.inFlight(app, env, 'promote');
    const { strategy } = dep;
    if (strategy.kind === 'rolling') throw conflict('deployment.not_progressive', `${dep.id} is a rolling deployment: it has no steps to skip`, 'promote applies to canary and blue_green deployments');
    if (dep.state === 'rolling_back') throw conflict('deployment.rolling_back', `${dep.id} is rolling back; there is nothing to promote`);
    const state = dep.state === 'paused' ? this.resumeState(dep) : dep.state;
    const patch: Partial<Deployment> = dep.state === 'probation' || state === 'probation'
      ? { state: 'probation', probationUntil: this.d.clock.now(), pausedFrom: null }
      : { state: 'progressing', step: strategy.kind === 'canary' ? strategy.steps.length : 1, stepStartedAt: null, pausedFrom: null };
    return this.change(dep, patch, 'deployment.promoted', actor, `${actor} promoted ${dep.id}`);
  }

  pause(app: string, env: string, actor: string): Deployment {
    const dep = this.inFlight(app, env, 'pause');
    if (dep.state === 'paused') throw conflict('deployment.already_paused', `${dep.id} is already paused`, `resume it with: slipway resume ${app} ${env}`);
    if (dep.state === 'rolling_back') throw conflict('deployment.rolling_back', `${dep.id} is rolling back and cannot be paused`);
    return this.change(dep, { state: 'paused', pausedFrom: dep.state, reason: `paused by ${actor}` }, 'deployment.paused', actor, `${actor} paused ${dep.id}`);
  }

  /** Resumes a paused deployment, and re-enables automatic deployments after a rollback. */
  resume(app: string, env: string, actor: string): { deployment?: Deployment; autoDeploy: boolean } {
    this.d.promotion.requireEnvironment(app, env);
    const envRecord = this.d.store.getEnvironment(app, env)!;
    const dep = this.d.store.inFlightDeployment(app, env);
    if (envRecord.autoPaused) {
      this.d.store.setAutoPaused(app, env, false);
      this.d.events.record({ kind: 'environment.resumed', app, env, actor, message: `${actor} re-enabled automatic deployments to ${env}` });
    }
    if (dep?.state === 'paused') {
      const { strategy } = dep;
      // A blue/green waiting at its preview only moves on by switching: resume means go.
      if (strategy.kind === 'blue_green' && dep.pausedFrom === 'progressing' && dep.step === 0) return { deployment: this.promote(app, env, actor), autoDeploy: true };
      const afterStep = dep.pausedFrom === 'step_end';
      const patch: Partial<Deployment> = { state: this.resumeState(dep), pausedFrom: null, reason: null, ...(afterStep ? { step: dep.step + 1, stepStartedAt: null } : {}) };
      return { deployment: this.change(dep, patch, 'deployment.resumed', actor, `${actor} resumed ${dep.id}${afterStep ? ' (next step)' : ''}`), autoDeploy: true };
    }
    if (!envRecord.autoPaused) {
      throw conflict('deployment.nothing_paused', `${app}/${env} has nothing paused to resume`, dep ? `deployment ${dep.id} is ${dep.state}` : 'no deployment is in progress');
    }
    this.d.kick();
    return { autoDeploy: true };
  }

  /** Stops the deployment in flight and sends all traffic back to the previous release. */
  abort(app: string, env: string, actor: string): Deployment {
    const dep = this.inFlight(app, env, 'abort');
    if (dep.state === 'rolling_back') throw conflict('deployment.rolling_back', `${dep.id} is already rolling back`);
    if (!dep.fromRelease) throw conflict('deployment.first', `${dep.id} is the first deployment of ${app}/${env}: there is no previous release to go back to`, 'let it finish or fail, then deploy another artifact');
    startRollback(this.d, dep, 'aborted', `aborted by ${actor}`, actor);
    this.d.kick();
    return this.d.store.getDeployment(dep.id)!;
  }

  /**
   * Back to the previous release. While its instances still run (a canary, blue/green probation)
   * it is a weight change, effective at once. Otherwise it is a rolling deployment of the previous
   * artifact without analysis, and automatic deployments to the environment pause until resumed.
   * `to` names a past deployment whose release (artifact and settings) to go back to.
   */
  rollback(app: string, env: string, actor: string, to?: string): Deployment {
    this.d.promotion.requireEnvironment(app, env);
    const { store } = this.d;
    const inFlight = store.inFlightDeployment(app, env);
    if (!to && inFlight && inFlight.state !== 'rolling_back' && inFlight.fromRelease) {
      startRollback(this.d, inFlight, 'rolled_back', `rolled back by ${actor}`, actor);
      this.d.kick();
      return store.getDeployment(inFlight.id)!;
    }
    if (inFlight) throw conflict('deployment.busy', `${app}/${env} has deployment ${inFlight.id} ${inFlight.state}`, 'wait for it to finish, or abort it, then roll back');
    const current = store.getEnvironment(app, env)?.currentRelease;
    let releaseId: string;
    if (to) {
      const record = store.getDeployment(to);
      if (!record || record.app !== app || record.env !== env) throw notFound('deployment', to, `list ${env}'s deployments with: slipway deployments ${app} --env ${env}`);
      if (record.toRelease === current) throw conflict('rollback.same_release', `${to} deployed the release ${app}/${env} already runs`, 'pick an earlier deployment');
      releaseId = record.toRelease;
    } else {
      const previous = store.listDeployments(app, env, 500).find((d) => d.state === 'committed' && d.toRelease !== current);
      if (!current || !previous) throw conflict('rollback.nothing', `${app}/${env} has no earlier release to roll back to`, 'a rollback needs at least two committed deployments in this environment');
      releaseId = previous.toRelease;
    }
    store.setAutoPaused(app, env, true);
    const release = store.getRelease(releaseId)!;
    const dep = this.d.promotion.createDeployment(release, 'rollback', actor, { kind: 'rolling', maxSurge: 1, maxUnavailable: 0 });
    this.d.events.record({ kind: 'environment.auto_paused', app, env, actor, deployment: dep.id, message: `automatic deployments to ${env} wait after this rollback: slipway resume ${app} ${env}` });
    return dep;
  }

  private inFlight(app: string, env: string, verb: string): Deployment {
    this.d.promotion.requireEnvironment(app, env);
    const dep = this.d.store.inFlightDeployment(app, env);
    if (!dep) throw conflict('deployment.none', `${app}/${env} has no deployment in progress to ${verb}`, `see the history with: slipway deployments ${app} --env ${env}`);
    return dep;
  }

  private resumeState(dep: Deployment): 'progressing' | 'probation' {
    return dep.pausedFrom === 'probation' ? 'probation' : 'progressing';
  }

  private change(dep: Deployment, patch: Partial<Deployment>, kind: string, actor: string, message: string): Deployment {
    this.d.store.updateDeployment(dep.id, patch);
    this.d.events.record({ app: dep.app, env: dep.env, deployment: dep.id, actor, kind, before: { state: dep.state, step: dep.step }, after: { state: patch.state ?? dep.state, step: patch.step ?? dep.step }, message });
    this.d.instances.refreshRoutes(dep.app, dep.env);
    this.d.kick();
    return this.d.store.getDeployment(dep.id)!;
  }
}

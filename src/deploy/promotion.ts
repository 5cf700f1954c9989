import type { Clock } from '../core/clock.ts';
import { conflict, notFound, SlipwayError } from '../core/errors.ts';
import type { EventLog } from '../core/events.ts';
import type { Store } from '../store/store.ts';
import type { StrategySpec } from '../spec/types.ts';
import type { Artifact, Deployment, Release } from '../store/types.ts';
import { newRelease, specOf } from './releases.ts';

/**
 * Environments and their gates: what deploys where, when, and on whose word. Production only
 * ever receives an artifact that succeeded in the environment before it.
 */
export class Promotion {
  private readonly store: Store;
  private readonly events: EventLog;
  private readonly clock: Clock;
  private readonly kick: () => void;

  constructor(deps: { store: Store; events: EventLog; clock: Clock; kick: () => void }) {
    this.store = deps.store;
    this.events = deps.events;
    this.clock = deps.clock;
    this.kick = deps.kick;
  }

  /**
   * After a crash between a green run and its first deployment: the newest artifact of each app
   * that never became a release or waited at a gate is sent on its way now.
   */
  resumeUndeployed(): void {
    for (const app of this.store.listApps()) {
      const newest = this.store.listArtifacts(app.name)[0];
      if (newest && !this.store.artifactWasPromoted(newest.digest)) this.artifactBuilt(newest);
    }
  }

  /** A green run: its artifact goes to the first environment. */
  artifactBuilt(artifact: Artifact): void {
    const first = specOf(artifact).environments[0];
    this.enter(artifact, first.name, first.approval, 'pipeline', 'slipway');
  }

  /** A deployment that came through the pipeline committed: open the way to the next environment. */
  deploymentCommitted(dep: Deployment): void {
    if (dep.trigger !== 'pipeline' && dep.trigger !== 'approval') return;
    const release = this.store.getRelease(dep.toRelease)!;
    const artifact = this.store.getArtifact(release.artifact)!;
    const envs = specOf(artifact).environments;
    const next = envs[envs.findIndex((e) => e.name === dep.env) + 1];
    if (next) this.enter(artifact, next.name, next.approval, 'pipeline', 'slipway');
  }

  private enter(artifact: Artifact, env: string, approval: boolean, trigger: string, actor: string): void {
    this.store.syncEnvironments(artifact.app, specOf(artifact).environments.map((e) => e.name));
    if (approval) {
      this.store.openGate(artifact.app, env, artifact.digest, this.clock.now());
      this.events.record({ kind: 'gate.waiting', app: artifact.app, env, actor, after: { artifact: artifact.digest, version: artifact.version }, message: `${artifact.version} waits for approval to enter ${env}` });
      return;
    }
    this.deploy(artifact, env, trigger, actor);
  }

  /** `slipway approve`: the newest artifact waiting at this environment's gate goes in. */
  approve(app: string, env: string, actor: string): Deployment {
    this.requireEnvironment(app, env);
    const gate = this.store.waitingGate(app, env);
    if (!gate) {
      throw conflict('gate.nothing_waiting', `nothing is waiting for approval in ${app}/${env}`,
        'an artifact waits here only after it succeeded in the previous environment; see `slipway status ' + app + '`');
    }
    const artifact = this.store.getArtifact(gate.artifact)!;
    this.store.decideGate(gate.id, actor, this.clock.now());
    this.events.record({ kind: 'gate.approved', app, env, actor, after: { artifact: artifact.digest, version: artifact.version }, message: `${actor} approved ${artifact.version} for ${env}` });
    return this.deploy(artifact, env, 'approval', actor);
  }

  /** `slipway deploy --artifact`: a known artifact, into an environment it is allowed to enter. */
  deployArtifact(app: string, env: string, digest: string, actor: string): Deployment {
    const position = this.requireEnvironment(app, env);
    const artifact = this.store.getArtifact(digest);
    if (!artifact || artifact.app !== app) throw notFound('artifact', digest, `list this app's artifacts with \`slipway artifacts ${app}\``);
    const known = specOf(artifact).environments.map((e) => e.name);
    if (!known.includes(env)) {
      throw conflict('artifact.no_environment', `${artifact.version} was built from a slipway.yaml without an environment "${env}"`, `its environments: ${known.join(', ')}`);
    }
    if (position > 0) {
      const previous = this.store.listEnvironments(app)[position - 1].name;
      if (!this.succeededIn(app, previous, digest)) {
        throw conflict('gate.not_promoted', `${artifact.version} (${digest.slice(0, 19)}…) never succeeded in ${previous}, so it may not enter ${env}`,
          `deploy it to ${previous} first: slipway deploy ${app} ${previous} --artifact ${digest}`);
      }
    }
    return this.deploy(artifact, env, 'manual', actor);
  }

  private deploy(artifact: Artifact, env: string, trigger: string, actor: string): Deployment {
    const release = newRelease(artifact, env, this.store.countReleases(artifact.app, env) + 1, this.clock.now());
    this.store.insertRelease(release);
    return this.createDeployment(release, trigger, actor);
  }

  /** Queues a deployment of `release`; the controller starts it when the environment is free. */
  createDeployment(release: Release, trigger: string, actor: string, strategy?: StrategySpec): Deployment {
    strategy ??= specOf(this.store.getArtifact(release.artifact)!).environments.find((e) => e.name === release.env)!.strategy;
    const number = this.store.nextDeploymentNumber(release.app, release.env);
    const dep: Deployment = {
      id: `${release.app}-${release.env}-${number}`, app: release.app, env: release.env, number,
      fromRelease: null, toRelease: release.id, strategy, state: 'pending', reason: null, trigger,
      createdBy: actor, createdAt: this.clock.now(), startedAt: null, finishedAt: null,
      weight: 0, step: 0, stepStartedAt: null, probationUntil: null, pausedFrom: null, ending: null,
    };
    this.store.insertDeployment(dep);
    this.events.record({ kind: 'deployment.created', app: dep.app, env: dep.env, deployment: dep.id, actor, after: { release: release.version, artifact: release.artifact, trigger } });
    this.kick();
    return dep;
  }

  private succeededIn(app: string, env: string, digest: string): boolean {
    return this.store.committedWithArtifact(app, env, digest);
  }

  requireEnvironment(app: string, env: string): number {
    if (!this.store.getApp(app)) throw notFound('app', app, 'list apps with `slipway apps`');
    const envs = this.store.listEnvironments(app);
    const found = envs.find((e) => e.name === env);
    if (!found) {
      throw new SlipwayError('environment.not_found', `${app} has no environment "${env}"`, {
        status: 404, hint: envs.length ? `environments: ${envs.map((e) => e.name).join(', ')}` : 'environments appear after the first green run',
      });
    }
    return found.position;
  }
}

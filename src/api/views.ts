import type { Store } from '../store/store.ts';
import type { Deployment, Instance, Run } from '../store/types.ts';

// What the API shows: records joined into the shapes people ask about (status, run detail).

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

export function instanceView(i: Instance) {
  return {
    id: i.id, release: i.version, role: i.role, state: i.state, healthy: i.healthy, routed: i.routed, port: i.port, pid: i.pid,
    restarts: i.restarts, startedAt: iso(i.startedAt), lastError: i.lastError,
  };
}

export function deploymentView(store: Store, d: Deployment) {
  const to = store.getRelease(d.toRelease);
  const from = d.fromRelease ? store.getRelease(d.fromRelease) : undefined;
  return {
    id: d.id, app: d.app, env: d.env, state: d.state, strategy: d.strategy.kind, parameters: d.strategy,
    from: from?.version ?? null, to: to?.version ?? null, artifact: to?.artifact ?? null, reason: d.reason, trigger: d.trigger,
    weight: d.weight, step: d.step, stepStartedAt: iso(d.stepStartedAt), probationUntil: iso(d.probationUntil),
    createdBy: d.createdBy, createdAt: iso(d.createdAt), startedAt: iso(d.startedAt), finishedAt: iso(d.finishedAt),
  };
}

export function statusView(store: Store, app: string) {
  const record = store.getApp(app)!;
  return {
    app, repo: record.repo, branch: record.branch, lastSeenCommit: record.lastSeenCommit,
    environments: store.listEnvironments(app).map((env) => {
      const release = env.currentRelease ? store.getRelease(env.currentRelease) : undefined;
      const artifact = release ? store.getArtifact(release.artifact) : undefined;
      const deployment = store.listDeployments(app, env.name, 1)[0];
      const gate = store.waitingGate(app, env.name);
      const waiting = gate ? store.getArtifact(gate.artifact) : undefined;
      return {
        name: env.name,
        autoDeployPaused: env.autoPaused,
        release: release && artifact ? {
          id: release.id, version: release.version, commit: artifact.commit, artifact: artifact.digest,
          run: artifact.runId, author: artifact.manifest.author ?? null, deployedAt: iso(env.deployedAt),
        } : null,
        deployment: deployment ? deploymentView(store, deployment) : null,
        waitingForApproval: gate && waiting ? { version: waiting.version, artifact: waiting.digest, commit: waiting.commit, since: iso(gate.createdAt) } : null,
        instances: store.liveInstances(app, env.name).map(instanceView),
      };
    }),
  };
}

export function runView(store: Store, run: Run) {
  const steps = store.listSteps(run.id).map((s) => ({
    index: s.idx, name: s.name, phase: s.phase, command: s.command, state: s.state, exitCode: s.exitCode, error: s.error,
    durationMs: s.startedAt !== null && s.finishedAt !== null ? s.finishedAt - s.startedAt : null,
  }));
  const failed = steps.find((s) => s.state === 'failed');
  return {
    id: run.id, app: run.app, number: run.number, commit: run.commit, branch: run.branch, author: run.author, message: run.message,
    trigger: run.trigger, state: run.state, error: run.error, artifact: run.artifact,
    queuedAt: iso(run.queuedAt), startedAt: iso(run.startedAt), finishedAt: iso(run.finishedAt),
    durationMs: run.startedAt !== null && run.finishedAt !== null ? run.finishedAt - run.startedAt : null,
    steps,
    failedStep: failed ? { name: failed.name, error: failed.error, lastLines: store.tailLog(run.id, failed.index, 20).map((l) => l.line) } : null,
  };
}

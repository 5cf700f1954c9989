import { ago, ms, short, table } from './format.ts';

// Plain-text views of API responses, one per command that shows something.

type Obj = Record<string, any>;

export function renderStatus(s: Obj): string {
  const out = [`${s.app}  (${s.repo} @ ${s.branch})`];
  for (const env of s.environments as Obj[]) {
    const r = env.release;
    out.push('', `${env.name}: ${r ? `${r.version}  commit ${short(r.commit, 12)}  artifact ${short(r.artifact, 12)}  deployed ${ago(r.deployedAt)}` : 'nothing deployed yet'}`);
    if (env.deployment) {
      const d = env.deployment;
      const traffic = d.strategy !== 'rolling' && ['progressing', 'paused', 'probation', 'rolling_back'].includes(d.state) ? `, ${d.weight}% on ${d.to}` : '';
      out.push(`  deployment ${d.id}: ${d.state} (${d.strategy}, ${d.from ?? 'nothing'} → ${d.to}${traffic})${d.reason ? ` — ${d.reason}` : ''}`);
    }
    if (env.autoDeployPaused) out.push(`  automatic deployments paused after a rollback: slipway resume ${s.app} ${env.name}`);
    if (env.waitingForApproval) out.push(`  waiting for approval: ${env.waitingForApproval.version} (slipway approve ${s.app} ${env.name})`);
    if (env.instances.length) {
      out.push(table(['  INSTANCE', 'RELEASE', 'STATE', 'HEALTHY', 'PORT', 'PID', 'RESTARTS'],
        env.instances.map((i: Obj) => [`  ${i.id}`, i.release, i.state, i.healthy ? 'yes' : 'no', i.port, i.pid, i.restarts])));
    }
  }
  return out.join('\n');
}

export function renderRuns(runs: Obj[]): string {
  if (runs.length === 0) return 'no runs yet';
  return table(['RUN', 'COMMIT', 'STATE', 'DURATION', 'TRIGGER', 'QUEUED', 'MESSAGE'],
    runs.map((r) => [r.id, short(r.commit), r.state, ms(r.durationMs), r.trigger, ago(r.queuedAt), (r.message ?? '').slice(0, 50)]));
}

export function renderRun(r: Obj): string {
  const out = [
    `run ${r.id}: ${r.state}${r.error ? ` — ${r.error}` : ''}`,
    `commit ${r.commit} (${r.branch}) by ${r.author ?? 'unknown'}: ${r.message ?? ''}`,
    `duration ${ms(r.durationMs)}${r.artifact ? `, artifact ${r.artifact}` : ''}`,
    '',
    table(['STEP', 'PHASE', 'STATE', 'EXIT', 'DURATION'], r.steps.map((s: Obj) => [s.name, s.phase, s.state, s.exitCode, ms(s.durationMs)])),
  ];
  if (r.failedStep) {
    out.push('', `step "${r.failedStep.name}" failed: ${r.failedStep.error ?? ''}`, ...r.failedStep.lastLines.map((l: string) => `  | ${l}`));
  }
  return out.join('\n');
}

export function renderDeployments(list: Obj[]): string {
  if (list.length === 0) return 'no deployments yet';
  return table(['DEPLOYMENT', 'ENV', 'FROM', 'TO', 'STRATEGY', 'STATE', 'BY', 'WHEN', 'REASON'],
    list.map((d) => [d.id, d.env, d.from, d.to, d.strategy, d.state, d.createdBy, ago(d.createdAt), d.reason]));
}

export function renderDeployment(d: Obj): string {
  const p = d.parameters;
  const params = p.kind === 'canary' ? `steps ${p.steps.join('% → ')}%, ${ms(p.stepDurationMs)} each, baseline ${p.baseline ? 'on' : 'off'}, probation ${ms(p.probationMs)}`
    : p.kind === 'blue_green' ? `preview ${p.preview ? 'on' : 'off'}, probation ${ms(p.probationMs)}`
    : `max_surge ${p.maxSurge}, max_unavailable ${p.maxUnavailable}`;
  const verdicts = (d.verdicts as Obj[] ?? []).map((v) => [
    new Date(v.ts).toISOString().slice(11, 19), `${v.weight}%`, v.outcome, v.score.toFixed(0), `${v.canaryCount}/${v.baselineCount}`, v.summary,
  ]);
  return [
    `deployment ${d.id}: ${d.state} (${d.strategy}, ${d.from ?? 'nothing'} → ${d.to}) by ${d.createdBy} via ${d.trigger}${d.reason ? `\nreason: ${d.reason}` : ''}`,
    `strategy: ${params}; now ${d.weight}% of traffic on ${d.to}`,
    ...(verdicts.length ? ['', 'analysis:', table(['TIME', 'TRAFFIC', 'VERDICT', 'SCORE', 'REQUESTS', 'WHY'], verdicts)] : []),
    '',
    table(['TIME', 'EVENT', 'INSTANCE', 'DETAIL'], (d.events as Obj[]).map((e) => [
      new Date(e.ts).toISOString().slice(11, 23), e.kind, e.instance, e.message ?? (e.after ? JSON.stringify(e.after) : ''),
    ])),
  ].join('\n');
}

export function renderArtifacts(list: Obj[]): string {
  if (list.length === 0) return 'no artifacts yet';
  return table(['VERSION', 'ARTIFACT', 'COMMIT', 'RUN', 'SIZE', 'CREATED'],
    list.map((a) => [a.version, a.digest, short(a.commit, 12), a.runId, `${(a.size / 1024).toFixed(1)}K`, ago(new Date(a.createdAt).toISOString())]));
}

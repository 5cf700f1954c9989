// One alert's life, as a pure function: (what it was, what this evaluation saw, now) → (what it
// is, what to tell people). No I/O and no clock: the engine persists `next` and enqueues the
// notification in one transaction, so a restart neither repeats nor loses one.
//
//   inactive ──condition──▶ pending ──held for `for`──▶ firing ──condition gone──▶ resolved
//                 ▲            │ condition gone                                     │
//                 └────────────┘ (flapping: back to inactive, nobody is told)        │
//                 └──────────────────────── condition again: a new episode ◀────────┘
import type { AlertRule, AlertState, Observation } from './types.ts';

export type NotifyKind = 'firing' | 'repeat' | 'resolved';

export interface StepInput {
  prev: AlertState | undefined;
  /** undefined: this evaluation saw nothing for the group (no data, app gone), i.e. not active. */
  obs: Observation | undefined;
  rule: Pick<AlertRule, 'name' | 'forMs' | 'severity'>;
  ruleId: string;
  key: string;
  app: string;
  env: string;
  now: number;
  repeatMs: number;
  /** The silence that covers this alert now, if any: state still changes, nobody is told. */
  silencedBy: string | null;
  /** Resolved alerts stay visible this long, then are forgotten. */
  keepResolvedMs: number;
}

export interface StepResult {
  next: AlertState | null; // null: inactive, nothing to remember
  notify: NotifyKind | null;
}

export function step(input: StepInput): StepResult {
  const { prev, obs, now } = input;
  if (obs?.active) return stepActive(input, obs);
  if (!prev) return { next: null, notify: null };
  if (prev.state === 'pending') return { next: null, notify: null };
  if (prev.state === 'firing') {
    const next: AlertState = { ...prev, ...measured(obs, prev), state: 'resolved', resolvedAt: now, lastEvalAt: now, silencedBy: input.silencedBy };
    // Only an alert somebody heard about is announced as resolved; a silenced one stays quiet.
    const notify = prev.notifiedAt !== null && input.silencedBy === null ? 'resolved' : null;
    return { next, notify };
  }
  // Already resolved: kept for display for a while.
  if (now - (prev.resolvedAt ?? now) >= input.keepResolvedMs) return { next: null, notify: null };
  return { next: { ...prev, lastEvalAt: now, silencedBy: input.silencedBy }, notify: null };
}

function stepActive(input: StepInput, obs: Observation): StepResult {
  const { prev, now, rule } = input;
  const continuing = prev && prev.state !== 'resolved';
  const base: AlertState = continuing
    ? { ...prev }
    : {
      key: input.key, ruleId: input.ruleId, rule: rule.name, app: input.app, env: input.env, severity: rule.severity,
      state: 'pending', activeSince: now, firedAt: null, resolvedAt: null, lastEvalAt: now, notifiedAt: null,
      silencedBy: null, value: 0, threshold: 0, members: [], scale: null, lastSeen: null,
    };
  const next: AlertState = { ...base, ...measured(obs, base), severity: rule.severity, lastEvalAt: now, silencedBy: input.silencedBy };
  if (next.state === 'pending' && now - next.activeSince >= rule.forMs) {
    next.state = 'firing';
    next.firedAt = now;
  }
  if (next.state !== 'firing' || input.silencedBy !== null) return { next, notify: null };
  // Firing and not silenced: announce once per episode, then remind every repeatMs. A silence
  // that ends on a still-firing alert counts as due: the receivers may have let it lapse.
  if (next.notifiedAt === null) return { next: { ...next, notifiedAt: now }, notify: 'firing' };
  const silenceEnded = prev?.state === 'firing' && prev.silencedBy !== null;
  if (silenceEnded || now - next.notifiedAt >= input.repeatMs) return { next: { ...next, notifiedAt: now }, notify: 'repeat' };
  return { next, notify: null };
}

// The numbers from this evaluation; when nothing was observed the last known ones stay.
function measured(obs: Observation | undefined, prev: AlertState): Pick<AlertState, 'value' | 'threshold' | 'members' | 'scale' | 'lastSeen'> {
  if (!obs) return { value: prev.value, threshold: prev.threshold, members: prev.members, scale: prev.scale, lastSeen: prev.lastSeen };
  return { value: obs.value, threshold: obs.threshold, members: obs.members, scale: obs.scale, lastSeen: obs.lastSeen ?? null };
}

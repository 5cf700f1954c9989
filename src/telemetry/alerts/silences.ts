// Silences: "I know, stop telling me" for a while. A silenced alert still moves through its
// states (and shows as silenced) but sends nothing. Every silence expires; it can be ended early.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../core/clock.ts';
import { parseDuration } from '../../core/duration.ts';
import { SlipwayError, conflict, notFound } from '../../core/errors.ts';
import type { AlertStore } from './store.ts';
import type { Silence, SilenceMatchers } from './types.ts';

export const MAX_SILENCE_MS = 30 * 86_400_000;
// Ended silences are kept this long so "who silenced what, and why" can still be looked up.
export const KEEP_ENDED_SILENCES_MS = 7 * 86_400_000;

export interface SilenceInput extends SilenceMatchers {
  /** "2h", "30m", or milliseconds. */
  duration: string | number;
  comment: string;
  createdBy: string;
  /** Default: now. A later start schedules the silence (e.g. a maintenance window). */
  startsAt?: number;
}

export type SilenceStatus = 'pending' | 'active' | 'expired';

export function silenceStatus(s: Silence, now: number): SilenceStatus {
  if (now >= s.endsAt) return 'expired';
  return now < s.startsAt ? 'pending' : 'active';
}

export function silenceMatches(s: Silence, alert: { app: string; env: string; rule: string }, now: number): boolean {
  if (silenceStatus(s, now) !== 'active') return false;
  const m = s.matchers;
  return (m.app === undefined || m.app === alert.app) && (m.env === undefined || m.env === alert.env) && (m.rule === undefined || m.rule === alert.rule);
}

/** The silence covering an alert, if any; the one that lasts longest, so status shows the one that matters. */
export function findSilence(silences: readonly Silence[], alert: { app: string; env: string; rule: string }, now: number): Silence | undefined {
  let found: Silence | undefined;
  for (const s of silences) if (silenceMatches(s, alert, now) && (!found || s.endsAt > found.endsAt)) found = s;
  return found;
}

const invalid = (message: string, hint: string) => new SlipwayError('alerts.silence_invalid', message, { hint, status: 400 });

export class Silences {
  private readonly store: AlertStore;
  private readonly clock: Clock;

  constructor(store: AlertStore, clock: Clock) {
    this.store = store;
    this.clock = clock;
  }

  create(input: SilenceInput): Silence {
    const now = this.clock.now();
    const matchers: SilenceMatchers = {};
    for (const field of ['app', 'env', 'rule'] as const) {
      const value = input[field];
      if (value === undefined || value === null) continue;
      if (typeof value !== 'string' || value.trim() === '' || /\s/.test(value)) {
        throw invalid(`silence ${field}: ${JSON.stringify(value)} is not a name`, `give the exact ${field} name, e.g. ${field === 'env' ? 'production' : field === 'app' ? 'hello' : 'high-error-rate'}`);
      }
      matchers[field] = value;
    }
    // A silence that matches everything would quietly switch alerting off.
    if (Object.keys(matchers).length === 0) throw invalid('a silence needs at least one of app, env, rule', 'e.g. app: hello, env: production');
    const ms = typeof input.duration === 'number' ? input.duration : parseDuration(String(input.duration), 'silence duration');
    if (!Number.isFinite(ms) || ms <= 0 || ms > MAX_SILENCE_MS) {
      throw invalid(`silence duration must be more than 0 and at most 30d`, 'e.g. 2h; create a new silence when this one runs out');
    }
    const comment = typeof input.comment === 'string' ? input.comment.trim() : '';
    if (comment === '') throw invalid('a silence needs a comment', 'say why, e.g. "migrating the database, errors expected until 14:00"');
    const createdBy = typeof input.createdBy === 'string' ? input.createdBy.trim() : '';
    if (createdBy === '') throw invalid('a silence needs createdBy', 'the user creating it');
    const startsAt = input.startsAt ?? now;
    if (!Number.isFinite(startsAt)) throw invalid('silence startsAt is not a time', 'milliseconds since the epoch, or leave it out to start now');
    const silence: Silence = { id: randomUUID(), matchers, startsAt, endsAt: startsAt + ms, comment, createdBy, createdAt: now, expiredBy: null };
    this.store.insertSilence(silence);
    return silence;
  }

  list(opts: { includeExpired?: boolean } = {}): (Silence & { status: SilenceStatus })[] {
    const now = this.clock.now();
    return this.store.silences()
      .map((s) => ({ ...s, status: silenceStatus(s, now) }))
      .filter((s) => opts.includeExpired || s.status !== 'expired');
  }

  get(id: string): Silence {
    const s = this.store.silence(id);
    if (!s) throw notFound('silence', id, 'list silences to see their ids');
    return s;
  }

  /** Ends a silence now; alerts it covered notify again from the next evaluation. */
  expire(id: string, by: string): Silence {
    const s = this.get(id);
    const now = this.clock.now();
    if (silenceStatus(s, now) === 'expired') throw conflict('alerts.silence_expired', `silence "${id}" has already expired`);
    this.store.endSilence(id, now, by);
    return { ...s, endsAt: now, expiredBy: by };
  }

  /** Every silence not yet ended (active or scheduled), for one evaluation round. */
  current(): Silence[] {
    const now = this.clock.now();
    return this.store.silences().filter((s) => silenceStatus(s, now) !== 'expired');
  }

  prune(): void {
    this.store.deleteSilencesEndedBefore(this.clock.now() - KEEP_ENDED_SILENCES_MS);
  }
}

// Which backend a request goes to: pure choices over a route's groups. The order of checks is
// the order of precedence: a release the client pinned, header rules, then the sticky split.

export interface Backend {
  id: string;
  port: number;
  host: string;
  release: string;
}

export interface Observation {
  latencyMs: number;
  error: boolean;
}

/** What the control plane hands the router for one environment. */
export interface RouteSpec {
  groups: { name: string; release: string; weight: number; backends: Backend[] }[];
  /** Requests matching every pair of a rule go to the `canary` group. */
  rules?: { header: string; value: string }[];
  /** Record per-request observations per group (canary analysis is running). */
  observe?: boolean;
}

export interface Candidate extends Backend {
  down: boolean;
}

export interface Group<B extends Candidate = Candidate> {
  name: string;
  release: string;
  weight: number;
  backends: B[];
  next: number;
  observations: Observation[];
  /** Its backends run more than one release (a rolling deployment): only then can a pin choose among them. */
  mixed?: boolean;
}

export const BUCKETS = 10_000;
export const CLIENT_COOKIE = 'slipway_client';
const RELEASE_COOKIE = 'slipway_release';

/** FNV-1a: cheap, stable, well spread over short ids; the same client always lands in the same bucket. */
export function bucketOf(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % BUCKETS;
}

/**
 * Groups fill the bucket range in their listed order, so raising the canary's weight only adds
 * buckets to it: a client who was on the canary at 5% stays on it at 25%.
 */
export function groupForBucket<B extends Candidate>(groups: Group<B>[], bucket: number): Group<B> | undefined {
  const total = groups.reduce((sum, g) => sum + g.weight, 0);
  if (total <= 0) return undefined;
  let edge = 0;
  for (const g of groups) {
    edge += (g.weight / total) * BUCKETS;
    if (bucket < edge) return g;
  }
  return groups[groups.length - 1];
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  const key = `${name}=`;
  for (let at = header.indexOf(key); at !== -1; at = header.indexOf(key, at + 1)) {
    // Only a whole cookie name counts: "xslipway_client=" is not "slipway_client=".
    if (at > 0 && header[at - 1] !== ' ' && header[at - 1] !== ';') continue;
    const start = at + key.length;
    const end = header.indexOf(';', start);
    return header.slice(start, end === -1 ? undefined : end).trim() || undefined;
  }
  return undefined;
}

export function available<B extends Candidate>(group: Group<B> | undefined): boolean {
  return !!group && group.backends.some((b) => !b.down);
}

/** The release a client asked to stay on, by header or cookie. */
export function pinnedRelease(headers: Record<string, string | string[] | undefined>): string | undefined {
  const header = headers['x-slipway-release'];
  if (typeof header === 'string' && header) return header;
  return cookieValue(headers.cookie as string | undefined, RELEASE_COOKIE);
}

/** `release` is set when the client pinned one: the backend must then be of that release. */
export type Choice<B extends Candidate> = { group: Group<B>; setCookie?: string; release?: string };

/**
 * Chooses the group for a request. `newClientId` is only called when a split is in force and the
 * client has no id yet; the router then sets the cookie so the next request lands the same way.
 */
export function chooseGroup<B extends Candidate>(groups: Group<B>[], rules: RouteSpec['rules'], headers: Record<string, string | string[] | undefined>, newClientId: () => string): Choice<B> | undefined {
  if (groups.length === 1) {
    // The common case, kept cheap: headers are only read when the group mixes releases.
    const only = groups[0];
    if (!available(only)) return undefined;
    const pinned = only.mixed ? pinnedRelease(headers) : undefined;
    return pinned && only.backends.some((b) => !b.down && b.release === pinned) ? { group: only, release: pinned } : { group: only };
  }
  const pinned = pinnedRelease(headers);
  if (pinned) {
    const byRelease = groups.filter((g) => g.release === pinned && available(g)).sort((a, b) => b.weight - a.weight)[0];
    if (byRelease) return { group: byRelease, release: pinned };
  }
  const canary = groups.find((g) => g.name === 'canary');
  const forced = headers['x-slipway-canary'];
  if (forced === 'always' && available(canary)) return { group: canary! };
  if (forced === 'never') {
    const stable = groups.find((g) => g.name === 'stable');
    if (available(stable)) return { group: stable! };
  }
  if (rules?.length && available(canary) && rules.some((r) => headers[r.header] === r.value)) return { group: canary! };

  let id = cookieValue(headers.cookie as string | undefined, CLIENT_COOKIE);
  let setCookie: string | undefined;
  if (!id) {
    id = newClientId();
    setCookie = `${CLIENT_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Lax`;
  }
  const chosen = groupForBucket(groups, bucketOf(id));
  if (available(chosen)) return { group: chosen!, setCookie };
  // The chosen group has nobody to serve (e.g. canary instances restarting): fall back to the
  // heaviest group that can, rather than failing the request.
  const fallback = groups.filter(available).sort((a, b) => b.weight - a.weight)[0];
  return fallback ? { group: fallback, setCookie } : undefined;
}

/** Round robin within a group, skipping backends marked down and the one that just failed. */
export function pickBackend<B extends Candidate>(group: Group<B>, exclude?: B, release?: string): B | undefined {
  const list = group.backends;
  for (let i = 0; i < list.length; i++) {
    const b = list[(group.next + i) % list.length];
    if (!b.down && b !== exclude && (release === undefined || b.release === release)) {
      group.next = (group.next + i + 1) % list.length;
      return b;
    }
  }
  return undefined;
}

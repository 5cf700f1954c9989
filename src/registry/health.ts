import http from 'node:http';

export interface HealthTarget {
  id: string;
  port: number;
  path: string;
  intervalMs: number;
  timeoutMs: number;
}

/** One HTTP GET; healthy on 2xx within the timeout. Never throws. */
export function probe(port: number, pathName: string, timeoutMs: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host, port, path: pathName, agent: false, timeout: timeoutMs, headers: { 'user-agent': 'slipway-health' } }, (res) => {
      res.resume();
      resolve(res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300);
    });
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.once('error', () => resolve(false));
  });
}

/** Until an instance first answers, probe this often: a new instance joins the router in ~0.1 s, not a full interval. */
const STARTUP_PROBE_MS = 100;

interface Tracked {
  target: HealthTarget;
  timer: NodeJS.Timeout | undefined;
  healthy: boolean | undefined;
  everHealthy: boolean;
}

/**
 * Checks every tracked instance on its own interval and reports transitions only, so the
 * controller hears "became healthy" / "became unhealthy" rather than a stream of probes.
 */
export class HealthMonitor {
  private readonly tracked = new Map<string, Tracked>();
  private readonly onChange: (id: string, healthy: boolean) => void;

  constructor(onChange: (id: string, healthy: boolean) => void) {
    this.onChange = onChange;
  }

  track(target: HealthTarget, known?: boolean): void {
    const existing = this.tracked.get(target.id);
    if (existing && existing.target.port === target.port) return;
    this.untrack(target.id);
    const entry: Tracked = { target, timer: undefined, healthy: known, everHealthy: known === true };
    this.tracked.set(target.id, entry);
    void this.check(entry);
  }

  untrack(id: string): void {
    const entry = this.tracked.get(id);
    if (entry) clearTimeout(entry.timer);
    this.tracked.delete(id);
  }

  /** A failure seen elsewhere (e.g. the router's connection error) counts as a failed probe. */
  markUnhealthy(id: string): void {
    const entry = this.tracked.get(id);
    if (entry && entry.healthy !== false) {
      entry.healthy = false;
      this.onChange(id, false);
    }
  }

  stop(): void {
    for (const id of [...this.tracked.keys()]) this.untrack(id);
  }

  private async check(entry: Tracked): Promise<void> {
    const healthy = await probe(entry.target.port, entry.target.path, entry.target.timeoutMs);
    if (this.tracked.get(entry.target.id) !== entry) return;
    if (healthy) entry.everHealthy = true;
    if (healthy !== entry.healthy) {
      entry.healthy = healthy;
      this.onChange(entry.target.id, healthy);
    }
    const delay = entry.everHealthy ? entry.target.intervalMs : Math.min(STARTUP_PROBE_MS, entry.target.intervalMs);
    entry.timer = setTimeout(() => void this.check(entry), delay);
    entry.timer.unref();
  }
}

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

/**
 * Checks every tracked instance on its own interval and reports transitions only, so the
 * controller hears "became healthy" / "became unhealthy" rather than a stream of probes.
 */
export class HealthMonitor {
  private readonly timers = new Map<string, { target: HealthTarget; timer: NodeJS.Timeout; healthy: boolean | undefined; busy: boolean }>();
  private readonly onChange: (id: string, healthy: boolean) => void;

  constructor(onChange: (id: string, healthy: boolean) => void) {
    this.onChange = onChange;
  }

  track(target: HealthTarget, known?: boolean): void {
    const existing = this.timers.get(target.id);
    if (existing && existing.target.port === target.port) return;
    this.untrack(target.id);
    const entry = { target, healthy: known, busy: false, timer: setInterval(() => this.check(target.id), target.intervalMs) };
    entry.timer.unref();
    this.timers.set(target.id, entry);
    void this.check(target.id);
  }

  untrack(id: string): void {
    const entry = this.timers.get(id);
    if (entry) clearInterval(entry.timer);
    this.timers.delete(id);
  }

  /** A failure seen elsewhere (e.g. the router's connection error) counts as a failed probe. */
  markUnhealthy(id: string): void {
    const entry = this.timers.get(id);
    if (entry && entry.healthy !== false) {
      entry.healthy = false;
      this.onChange(id, false);
    }
  }

  stop(): void {
    for (const id of [...this.timers.keys()]) this.untrack(id);
  }

  private async check(id: string): Promise<void> {
    const entry = this.timers.get(id);
    if (!entry || entry.busy) return;
    entry.busy = true;
    const healthy = await probe(entry.target.port, entry.target.path, entry.target.timeoutMs);
    entry.busy = false;
    if (this.timers.get(id) !== entry) return;
    if (healthy !== entry.healthy) {
      entry.healthy = healthy;
      this.onChange(id, healthy);
    }
  }
}

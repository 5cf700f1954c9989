import http from 'node:http';

export interface LoadResult { ok: number; failed: number; failures: string[]; releases: Map<string, number> }

/**
 * Sustained keep-alive GETs through the router from `workers` concurrent clients, until stop().
 * Any non-2xx or transport error counts as a failed request.
 */
export function load(routerPort: number, host: string, workers = 4, maxMs = 120_000): { stop(): Promise<LoadResult>; snapshot(): LoadResult } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: workers });
  const result: LoadResult = { ok: 0, failed: 0, failures: [], releases: new Map() };
  let running = true;
  // A test that fails before stop() must not leave the load running forever.
  const deadline = Date.now() + maxMs;
  const one = () => new Promise<void>((resolve) => {
    const req = http.get({ host: '127.0.0.1', port: routerPort, path: '/', headers: { host }, agent }, (res) => {
      res.resume();
      res.on('end', () => {
        const release = String(res.headers['x-slipway-release'] ?? '?');
        if (res.statusCode === 200) { result.ok++; result.releases.set(release, (result.releases.get(release) ?? 0) + 1); }
        else { result.failed++; result.failures.push(`HTTP ${res.statusCode}`); }
        resolve();
      });
    });
    req.on('error', (err) => { result.failed++; result.failures.push(err.message); resolve(); });
  });
  const loops = Array.from({ length: workers }, async () => { while (running && Date.now() < deadline) await one(); });
  return {
    snapshot: () => result,
    async stop() {
      running = false;
      await Promise.all(loops);
      agent.destroy();
      return result;
    },
  };
}

/** One GET through the router with the given Host (fetch cannot set Host, so plain http). */
export function get(routerPort: number, host: string, timeoutMs = 3000): Promise<{ status: number; release: string | undefined; body: string }> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port: routerPort, path: '/', headers: { host }, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, release: res.headers['x-slipway-release'] as string | undefined, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, release: undefined, body: '' }));
  });
}

// Realistic, reproducible log lines for the log store benchmark: a mix of pino and winston
// JSON, logfmt and plain text (stack traces, framework banners), with request ids that occur
// once, user ids that occur dozens of times, and words that occur in most lines.

/** mulberry32: small, fast, seeded. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PATHS = ['/api/orders', '/api/users', '/api/cart', '/health', '/api/products', '/api/checkout', '/login', '/static/app.js', '/api/invoices', '/api/search'];
const METHODS = ['GET', 'GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE'];
const STATUS = [200, 200, 200, 200, 200, 201, 204, 304, 400, 404, 500, 503];
// Zipf-ish: earlier phrases are much more frequent.
const PHRASES = [
  'request completed', 'cache miss for key', 'user signed in', 'retrying upstream request', 'payment authorised',
  'slow query detected', 'scheduled job finished', 'webhook delivered', 'session refreshed', 'feature flag evaluated',
  'connection pool exhausted', 'payment declined by issuer', 'invalid token signature', 'rate limit exceeded for client',
  'order shipped to warehouse', 'inventory reservation expired', 'email bounced permanently', 'circuit breaker opened',
  'disk usage above threshold', 'certificate expires soon',
];
const PLAIN = [
  (r: Rand) => `Listening on port ${3000 + r.int(10)}`,
  (r: Rand) => `Error: ECONNRESET while talking to ${r.pick(['db-primary', 'redis-0', 'payments-api'])}`,
  () => '    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
  (r: Rand) => `    at Object.handler (/app/src/routes/${r.pick(['orders', 'users', 'cart'])}.js:${r.int(300)}:${r.int(40)})`,
  (r: Rand) => `warning: deprecated API used by ${r.pick(PATHS)}`,
  (r: Rand) => `${r.phrase()} ${r.reqId()}`,
  (r: Rand) => `TimeoutError: upstream ${r.pick(['inventory', 'pricing', 'search'])} did not answer within ${r.int(30)}s`,
];

interface Rand {
  int(n: number): number;
  pick<T>(xs: readonly T[]): T;
  hex(n: number): string;
  reqId(): string;
  phrase(): string;
}

function rand(seed: number): Rand {
  const next = prng(seed);
  const r: Rand = {
    int: (n) => Math.floor(next() * n),
    pick: (xs) => xs[Math.floor(next() * xs.length)],
    hex: (n) => { let s = ''; for (let i = 0; i < n; i++) s += '0123456789abcdef'[Math.floor(next() * 16)]; return s; },
    reqId: () => `req-${r.hex(12)}`,
    phrase: () => PHRASES[Math.min(PHRASES.length - 1, Math.floor(PHRASES.length * next() ** 2.5))],
  };
  return r;
}

/** When line `i` of `n` was written: spread evenly over the hour before `now`. */
export const writtenAt = (i: number, n: number, now: number) => now - 3_600_000 + Math.floor((i / n) * 3_600_000);

/** `n` lines, as an hour of output; JSON lines carry the time they were written. */
export function generateLines(n: number, now: number, seed = 7): string[] {
  const r = rand(seed);
  const lines: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const kind = r.int(100);
    const time = writtenAt(i, n, now);
    if (kind < 40) {
      const status = r.pick(STATUS);
      lines[i] = JSON.stringify({
        level: status >= 500 ? 50 : status >= 400 ? 40 : r.pick([30, 30, 30, 30, 20]), time, pid: 4242, hostname: 'web-1', reqId: r.reqId(),
        msg: `${r.pick(METHODS)} ${r.pick(PATHS)}/${r.int(10_000)} ${status} ${r.int(900)}ms`, userId: `u${r.int(5000)}`,
      });
    } else if (kind < 55) {
      lines[i] = JSON.stringify({ level: r.pick(['info', 'info', 'info', 'warn', 'error', 'debug']), message: r.phrase(), timestamp: new Date(time).toISOString(), service: 'billing', traceId: r.hex(16) });
    } else if (kind < 80) {
      lines[i] = `level=${r.pick(['info', 'info', 'info', 'warn', 'error', 'debug'])} msg="${r.phrase()}" request_id=${r.reqId()} duration_ms=${r.int(2000)} region=${r.pick(['eu-west-1', 'us-east-1', 'ap-south-1'])}`;
    } else {
      lines[i] = r.pick(PLAIN)(r);
    }
  }
  return lines;
}

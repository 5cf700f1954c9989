// The quickstart app: answers on PORT, reports its release, shuts down gracefully on SIGTERM.
import http from 'node:http';
import { readFileSync } from 'node:fs';

const message = readFileSync(new URL('./message.txt', import.meta.url), 'utf8').trim();
const release = process.env.SLIPWAY_RELEASE ?? 'dev';
// Knobs to rehearse a bad release: a share of requests fail, or every request gets slower.
const errorRate = Number(process.env.ERROR_RATE ?? 0);
const extraLatencyMs = Number(process.env.EXTRA_LATENCY_MS ?? 0);

let served = 0;

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://local');
  if (url.pathname === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    return res.end('ok\n');
  }
  if (url.pathname === '/metrics') {
    // The Prometheus text format, as a real app would expose it (Slipway scrapes it).
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    return res.end(`# HELP hello_requests_total Requests answered by this instance.\n# TYPE hello_requests_total counter\nhello_requests_total{path="/"} ${served}\n`);
  }
  if (url.pathname === '/log') {
    // Writes one log line: plain text, or a JSON line as pino would (format=json).
    const msg = url.searchParams.get('msg') ?? 'hello';
    const level = url.searchParams.get('level') ?? 'info';
    if (url.searchParams.get('format') === 'json') console.log(JSON.stringify({ level, msg, user: url.searchParams.get('user'), time: Date.now() }));
    else console.log(msg);
    res.writeHead(204);
    return res.end();
  }
  served++;
  const answer = () => {
    if (Math.random() < errorRate) {
      res.writeHead(500, { 'content-type': 'text/plain' });
      return res.end('simulated failure\n');
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`${message} (release ${release}, instance ${process.env.SLIPWAY_INSTANCE ?? 'local'})\n`);
  };
  if (extraLatencyMs > 0) setTimeout(answer, extraLatencyMs);
  else answer();
});

// STARTUP_DELAY_MS makes a slow-starting service, to watch a rollout wait for health checks.
setTimeout(() => {
  server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
    console.log(`hello ${release} listening on ${server.address().port}`);
  });
}, Number(process.env.STARTUP_DELAY_MS ?? 0));

process.on('SIGTERM', () => {
  console.log('SIGTERM: finishing in-flight requests');
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});

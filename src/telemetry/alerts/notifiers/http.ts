// One JSON POST with a deadline, and the verdict the outbox needs: delivered, try again later,
// or give up (the receiver refused the payload itself, so resending cannot help).
import { redactUrl } from './config.ts';

export class DeliveryError extends Error {
  readonly permanent: boolean;
  readonly status?: number;

  constructor(message: string, permanent: boolean, status?: number) {
    super(message);
    this.name = 'DeliveryError';
    this.permanent = permanent;
    if (status !== undefined) this.status = status;
  }
}

export interface PostOptions {
  headers?: Record<string, string>;
  timeoutMs: number;
  signal?: AbortSignal;
}

// 408 and 429 say "later"; 5xx says "not now". Any other 4xx is about the request itself.
const retryable = (status: number) => status === 408 || status === 429 || status >= 500;

export async function postJson(url: string, body: unknown, opts: PostOptions): Promise<void> {
  const signals = [AbortSignal.timeout(opts.timeoutMs)];
  if (opts.signal) signals.push(opts.signal);
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'slipway-alerts', ...opts.headers },
      body: JSON.stringify(body),
      signal: AbortSignal.any(signals),
      redirect: 'error',
    });
  } catch (err) {
    throw new DeliveryError(`${redactUrl(url)}: ${networkReason(err, opts.timeoutMs)}`, false);
  }
  if (response.ok) {
    await response.body?.cancel();
    return;
  }
  // The start of the body usually says why (Alertmanager: "startsAt must be before endsAt").
  const detail = (await response.text().catch(() => '')).replace(/\s+/g, ' ').trim().slice(0, 200);
  throw new DeliveryError(`${redactUrl(url)}: HTTP ${response.status}${detail ? `: ${detail}` : ''}`, !retryable(response.status), response.status);
}

// fetch says only "fetch failed"; the cause says what happened (ECONNREFUSED, a timeout…).
// Never the URL: it may carry a secret.
function networkReason(err: unknown, timeoutMs: number): string {
  const e = err as Error & { cause?: Error & { code?: string } };
  if (e.name === 'TimeoutError') return `no answer within ${timeoutMs}ms`;
  if (e.name === 'AbortError') return 'aborted (shutting down)';
  const cause = e.cause;
  if (cause?.code) return `${cause.code}${cause.message && !cause.message.includes('://') ? ` (${cause.message})` : ''}`;
  return e.message;
}

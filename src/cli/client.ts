import { createParser } from 'eventsource-parser';
import { isUsageError } from '../core/errors.ts';

/** A failure the CLI reports and exits on: 1 for failures, 2 for usage errors. */
export class CliError extends Error {
  readonly exitCode: number;
  readonly hint?: string;
  constructor(message: string, opts: { hint?: string; exitCode?: number } = {}) {
    super(message);
    this.exitCode = opts.exitCode ?? 1;
    this.hint = opts.hint;
  }
}

/** Talks to the API only: the CLI has no other way into the server. */
export class Client {
  private readonly url: string;
  private readonly token: string;

  constructor(env: NodeJS.ProcessEnv = process.env) {
    const url = env.SLIPWAY_URL || 'http://127.0.0.1:7070';
    const token = env.SLIPWAY_TOKEN;
    if (!token) throw new CliError('SLIPWAY_TOKEN is not set', { exitCode: 2, hint: 'export SLIPWAY_TOKEN=$(cat <data-dir>/admin-token) (default data dir: ~/.local/share/slipway)' });
    this.url = url.replace(/\/$/, '');
    this.token = token;
  }

  private async request(method: string, path: string, body?: unknown, accept = 'application/json'): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, accept, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new CliError(`cannot reach Slipway at ${this.url} (${cause})`, { hint: 'is `slipway server` running? SLIPWAY_URL points at its API' });
    }
    if (!res.ok) {
      const payload = await res.json().catch(() => undefined) as { error?: { code?: string; message?: string; hint?: string } } | undefined;
      throw new CliError(payload?.error?.message ?? `HTTP ${res.status} from ${method} ${path}`, {
        hint: payload?.error?.hint, exitCode: isUsageError(payload?.error?.code) ? 2 : 1,
      });
    }
    return res;
  }

  async get<T>(path: string): Promise<T> {
    return (await this.request('GET', path)).json() as Promise<T>;
  }

  async delete<T>(path: string): Promise<T> {
    return (await this.request('DELETE', path)).json() as Promise<T>;
  }

  async post<T>(path: string, body: unknown = {}): Promise<T> {
    return (await this.request('POST', path, body)).json() as Promise<T>;
  }

  /** Server-Sent Events: calls onEvent per event until the server ends the stream. */
  async stream(path: string, onEvent: (event: string | undefined, data: string) => void): Promise<void> {
    const res = await this.request('GET', path, undefined, 'text/event-stream');
    const parser = createParser({ onEvent: (e) => onEvent(e.event, e.data) });
    const decoder = new TextDecoder();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(chunk, { stream: true }));
  }
}

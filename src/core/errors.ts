// One error type a person can act on: a stable code, a message that says what was wrong,
// and a hint that says how to fix it. The API maps `status`; the CLI prints message + hint.
export interface ErrorOptions {
  hint?: string;
  status?: number;
  details?: Record<string, unknown>;
}

export class SlipwayError extends Error {
  readonly code: string;
  readonly hint?: string;
  readonly status: number;
  readonly details?: Record<string, unknown>;

  constructor(code: string, message: string, opts: ErrorOptions = {}) {
    super(message);
    this.name = 'SlipwayError';
    this.code = code;
    this.hint = opts.hint;
    this.status = opts.status ?? 400;
    this.details = opts.details;
  }

  toJSON() {
    return { code: this.code, message: this.message, ...(this.hint ? { hint: this.hint } : {}), ...(this.details ? { details: this.details } : {}) };
  }
}

export const notFound = (what: string, name: string, hint?: string) =>
  new SlipwayError(`${what}.not_found`, `${what} "${name}" does not exist`, { status: 404, hint });

export const conflict = (code: string, message: string, hint?: string) =>
  new SlipwayError(code, message, { status: 409, hint });

/**
 * Whether an error code says the input itself was malformed (a bad flag value, a missing field):
 * the CLI exits 2 for these, as for any usage error, and 1 for failures.
 */
export const isUsageError = (code: string | undefined) => code !== undefined && /^(usage|request)\.|\.bad_/.test(code);

import { timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { SlipwayError } from '../core/errors.ts';

/** Bearer-token check. The token is never echoed back, logged or put in an error. */
export function bearerAuth(token: string): MiddlewareHandler<{ Variables: { actor: string } }> {
  const expected = Buffer.from(token);
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw new SlipwayError('auth.missing', 'this request needs a token', { status: 401, hint: 'send Authorization: Bearer <token>; the CLI reads SLIPWAY_TOKEN (the admin token is in <data-dir>/admin-token)' });
    const given = Buffer.from(match[1]);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new SlipwayError('auth.invalid', 'the token is not valid for this server', { status: 401, hint: 'check SLIPWAY_TOKEN against <data-dir>/admin-token of the server at SLIPWAY_URL' });
    }
    c.set('actor', 'admin');
    await next();
  };
}

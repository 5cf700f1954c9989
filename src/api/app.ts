import { Hono } from 'hono';
import { SlipwayError } from '../core/errors.ts';
import type { Slipway } from '../server/slipway.ts';
import { bearerAuth } from './auth.ts';
import { appRoutes } from './routes/apps.ts';
import { environmentRoutes } from './routes/environments.ts';
import { runRoutes } from './routes/runs.ts';
import { telemetryRoutes } from './routes/telemetry.ts';
import type { ApiEnv, RouteModule } from './types.ts';

const MODULES: RouteModule[] = [appRoutes, runRoutes, environmentRoutes, telemetryRoutes];

/** The REST API under /api/v1. Every error is `{error: {code, message, hint}}` with its status. */
export function createApi(slipway: Slipway, token: string): Hono<ApiEnv> {
  const api = new Hono<ApiEnv>();
  api.onError((err, c) => {
    if (err instanceof SlipwayError) return c.json({ error: err.toJSON() }, err.status as 400);
    console.error('slipway: API error:', err);
    return c.json({ error: { code: 'internal', message: 'internal error; the server log has details' } }, 500);
  });
  api.notFound((c) => c.json({ error: { code: 'route.not_found', message: `no API route ${c.req.method} ${c.req.path}`, hint: 'API routes live under /api/v1' } }, 404));
  api.get('/healthz', (c) => c.json({ ok: true }));
  // Everything but the health check needs the token, unknown paths too: a 404 would tell an
  // unauthenticated caller which routes exist.
  api.use('*', bearerAuth(token));
  for (const register of MODULES) register(api, slipway);
  return api;
}

import type { Hono } from 'hono';
import type { Slipway } from '../server/slipway.ts';

export type ApiEnv = { Variables: { actor: string } };
export type Api = Hono<ApiEnv>;

/** A route module adds its routes for one domain; app.ts registers them all. */
export type RouteModule = (api: Api, slipway: Slipway) => void;

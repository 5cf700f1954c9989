import type { Context } from 'hono';
import { body, str } from '../request.ts';
import type { ApiEnv, RouteModule } from '../types.ts';
import { runView, statusView } from '../views.ts';

export const appRoutes: RouteModule = (api, { store, pipeline }) => {
  api.get('/api/v1/apps', (c) => c.json({ apps: store.listApps() }));
  api.post('/api/v1/apps', async (c) => {
    const b = await body(c);
    const { app, run } = await pipeline.createApp(str(b.repo, 'repo', true)!, str(b.branch, 'branch', false) ?? 'main', c.get('actor'));
    return c.json({ app, run: runView(store, run) }, 201);
  });
  const status = (c: Context<ApiEnv>) => c.json(statusView(store, pipeline.requireApp(c.req.param('app')!).name));
  api.get('/api/v1/apps/:app', status);
  api.get('/api/v1/apps/:app/status', status);
  api.get('/api/v1/apps/:app/artifacts', (c) => c.json({ artifacts: store.listArtifacts(pipeline.requireApp(c.req.param('app')).name) }));
  api.get('/api/v1/events', (c) => c.json({
    events: store.listEvents({ app: c.req.query('app'), after: Number(c.req.query('after') ?? 0), limit: Number(c.req.query('limit') ?? 500) }),
  }));
};

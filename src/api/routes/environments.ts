import type { Context } from 'hono';
import { notFound } from '../../core/errors.ts';
import type { Deployment } from '../../store/types.ts';
import { body, str } from '../request.ts';
import type { ApiEnv, RouteModule } from '../types.ts';
import { deploymentView } from '../views.ts';

export const environmentRoutes: RouteModule = (api, slipway) => {
  const { store, pipeline, promotion, operations } = slipway;
  const act = (action: (app: string, env: string, actor: string, b: Record<string, unknown>) => Deployment) => async (c: Context<ApiEnv>) => {
    const b = await body(c);
    const d = action(pipeline.requireApp(c.req.param('app')!).name, c.req.param('env')!, c.get('actor'), b);
    return c.json(deploymentView(store, d), 202);
  };
  api.post('/api/v1/apps/:app/environments/:env/approve', act((app, env, actor) => promotion.approve(app, env, actor)));
  api.post('/api/v1/apps/:app/environments/:env/rollback', act((app, env, actor, b) => operations.rollback(app, env, actor, str(b.to, 'to', false))));
  api.post('/api/v1/apps/:app/environments/:env/promote', act((app, env, actor) => operations.promote(app, env, actor)));
  api.post('/api/v1/apps/:app/environments/:env/pause', act((app, env, actor) => operations.pause(app, env, actor)));
  api.post('/api/v1/apps/:app/environments/:env/abort', act((app, env, actor) => operations.abort(app, env, actor)));
  api.post('/api/v1/apps/:app/environments/:env/resume', async (c) => {
    const app = pipeline.requireApp(c.req.param('app')).name;
    const { deployment, autoDeploy } = operations.resume(app, c.req.param('env'), c.get('actor'));
    return c.json({ deployment: deployment ? deploymentView(store, deployment) : null, autoDeploy }, 202);
  });
  api.post('/api/v1/apps/:app/environments/:env/deploy', act((app, env, actor, b) => promotion.deployArtifact(app, env, str(b.artifact, 'artifact', true)!, actor)));

  api.get('/api/v1/apps/:app/deployments', (c) => {
    const app = pipeline.requireApp(c.req.param('app'));
    const env = c.req.query('env') || undefined;
    if (env) promotion.requireEnvironment(app.name, env);
    return c.json({ deployments: store.listDeployments(app.name, env).map((d) => deploymentView(store, d)) });
  });
  api.get('/api/v1/deployments/:id', (c) => {
    const d = store.getDeployment(c.req.param('id'));
    if (!d) throw notFound('deployment', c.req.param('id'), 'list deployments with `slipway deployments <app>`');
    return c.json({ ...deploymentView(store, d), verdicts: store.listVerdicts(d.id), events: store.listEvents({ deployment: d.id, limit: 2000 }) });
  });
};

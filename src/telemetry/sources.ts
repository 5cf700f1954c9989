import type { Clock } from '../core/clock.ts';
import type { Store } from '../store/store.ts';
import type { AlertSources, DeploymentContext, MetricQuery, Series, Target } from './alerts/types.ts';
import type { LogStore } from './logs/store.ts';
import { MAX_LIMIT } from './logs/filter.ts';
import type { MetricsStore } from './metrics/store.ts';

/** While a deployment step runs in an environment, alert thresholds there are relaxed by this factor. */
const DEPLOYMENT_SCALE = 2;

/** The alert engine's view of Slipway: metrics, logs, the store's history and deployments in flight. */
export function alertSources(d: { store: Store; metrics: MetricsStore; logs: LogStore; clock: Clock; lastRequest: Map<string, number> }): AlertSources {
  const instant = (q: MetricQuery, metric: string, fn: 'rate' | 'raw' | 'histogram_quantile') => d.metrics.instant({
    metric, match: q.match, fn, window: q.window, quantile: q.quantile, agg: fn === 'raw' ? undefined : 'sum', by: q.by.length ? q.by : ['app', 'env'],
  });
  return {
    async metric(q): Promise<Series[]> {
      try {
        if (q.fn === 'ratio') {
          const errors = instant(q, q.metric, 'rate');
          const totals = new Map(instant(q, q.denominator!, 'rate').map((s) => [JSON.stringify(s.labels), s.value]));
          return errors.flatMap((s) => {
            const total = totals.get(JSON.stringify(s.labels));
            return total && total > 0 && Number.isFinite(s.value) ? [{ labels: s.labels, value: s.value / total }] : [];
          });
        }
        const fn = q.fn === 'quantile' ? 'histogram_quantile' : q.fn === 'rate' ? 'rate' : 'raw';
        return instant(q, q.metric, fn).filter((s) => Number.isFinite(s.value));
      } catch (err) {
        // No series yet (nothing served, nothing scraped) is "no data", not a failure of the source.
        if ((err as { code?: string }).code?.startsWith('metrics.')) return [];
        throw err;
      }
    },
    async logCount(q) {
      return d.logs.query({ ...q.match, grep: q.pattern, since: d.clock.now() - q.window, limit: MAX_LIMIT }).length;
    },
    async lastSeen({ event, match }) {
      if (event === 'request') return d.lastRequest.get(`${match.app}/${match.env}`) ?? null;
      if (event === 'run_succeeded') return d.store.runFigures().find((r) => r.app === match.app && r.state === 'succeeded')?.lastSuccess ?? null;
      if (event === 'deploy_succeeded') {
        const last = d.store.listDeployments(match.app, match.env, 50).find((x) => x.state === 'committed');
        return last?.finishedAt ?? null;
      }
      if (event === 'instance_report') return d.store.getInstance(match.instance)?.healthyAt ?? null;
      return null;
    },
    async deployments(): Promise<DeploymentContext> {
      const drainingInstances = new Set<string>();
      for (const i of d.store.liveInstances()) if (i.state === 'draining' || i.state === 'stopping') drainingInstances.add(i.id);
      const scaling = new Map<string, number>();
      for (const dep of d.store.activeDeployments()) if (dep.state !== 'pending') scaling.set(`${dep.app}/${dep.env}`, DEPLOYMENT_SCALE);
      return { drainingInstances, scaling };
    },
    async targets(): Promise<Target[]> {
      const out: Target[] = [];
      for (const app of d.store.listApps()) {
        for (const env of d.store.listEnvironments(app.name)) {
          if (!env.currentRelease) continue;
          const instances = d.store.liveInstances(app.name, env.name).map((i) => ({ id: i.id, startedAt: i.startedAt ?? i.createdAt }));
          out.push({ app: app.name, env: env.name, since: env.deployedAt ?? undefined, instances });
        }
      }
      return out;
    },
  };
}

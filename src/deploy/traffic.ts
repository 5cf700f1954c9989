import type { RouteSpec } from '../router/traffic.ts';
import type { Deployment, Instance } from '../store/types.ts';

// What the router should do for one environment, from its instances and the deployment in
// flight. Pure, so the weights after a restart are exactly the weights before it.

export interface EnvRoutes {
  main: RouteSpec;
  /** Blue/green before the switch: the new set on <app>.<env>-preview.localhost. */
  preview?: RouteSpec;
}

const serving = (i: Instance) => i.routed && i.healthy && i.state === 'running';
const backend = (i: Instance) => ({ id: i.id, host: '127.0.0.1', port: i.port, release: i.version });

export function routesFor(instances: Instance[], dep: Deployment | undefined): EnvRoutes {
  const live = instances.filter(serving);
  const progressive = dep && dep.fromRelease && dep.strategy.kind !== 'rolling' && dep.state !== 'pending';
  if (!dep || !progressive) return { main: { groups: [{ name: 'stable', release: '', weight: 100, backends: live.map(backend) }] } };

  const fresh = live.filter((i) => i.releaseId === dep.toRelease);
  const baseline = live.filter((i) => i.releaseId !== dep.toRelease && i.role === 'baseline');
  const stable = live.filter((i) => i.releaseId !== dep.toRelease && i.role === 'main');
  const version = (list: Instance[]) => list[0]?.version ?? '';
  const strategy = dep.strategy;
  const canaryStep = strategy.kind === 'canary' && dep.step < strategy.steps.length;
  // The baseline takes the same share as the canary, so the judge compares like with like.
  const baselineWeight = canaryStep && strategy.baseline ? dep.weight : 0;
  const main: RouteSpec = {
    groups: [
      { name: 'canary', release: version(fresh), weight: dep.weight, backends: fresh.map(backend) },
      { name: 'baseline', release: version(baseline), weight: baselineWeight, backends: baseline.map(backend) },
      { name: 'stable', release: version(stable), weight: Math.max(0, 100 - dep.weight - baselineWeight), backends: stable.map(backend) },
    ],
    rules: strategy.kind === 'canary' ? strategy.match : undefined,
    observe: canaryStep && dep.state === 'progressing',
  };
  const preview = strategy.kind === 'blue_green' && dep.weight < 100 && dep.state !== 'rolling_back'
    ? { groups: [{ name: 'stable', release: version(fresh), weight: 100, backends: fresh.map(backend) }] }
    : undefined;
  return { main, preview };
}

// The metrics module's public surface. Typical wiring (server):
//
//   const metrics = new MetricsStore({ file: join(dataDir, 'metrics.db'), clock });
//   metrics.startCompaction({ onError: (e) => log(e) });
//   const scraper = new Scraper({ store: metrics, clock });
//   scraper.setTargets(instances.map((i) => ({ url: `http://127.0.0.1:${i.port}/metrics`,
//     labels: { app, env, release, instance: i.id } })));        // and { pid, labels } targets
//   // GET /apps/:app/metrics/:metric → metrics.query({ metric, match: { app, env }, ... })
//   // CLI: renderQueryResult(result) or JSON.stringify(result); metricNames({ app }) to list.
export { MetricsStore, type IngestResult, type InstantQuery, type InstantValue, type MetricsStoreOptions } from './store.ts';
export { Scraper, withTargetLabels, type HttpTarget, type ProcessTarget, type SampleSink, type ScrapeTarget, type ScraperOptions, type TargetHealth } from './scraper.ts';
export { parseExposition, parseExpositionFamilies, type Exposition } from './exposition.ts';
export { sampleProcess, parseProcStat, parseProcStatusRss, clockTicks } from './process.ts';
export { parseMatcher } from './labels.ts';
export { planQuery, chooseResolution, MAX_STEPS } from './plan.ts';
export { withPoints } from './result.ts';
export { renderQueryResult, renderMetricNames, sparkline, formatValue, describeQuery } from './render.ts';
export * from './types.ts';

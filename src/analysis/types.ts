// The canary judge's contract. Metric names are part of slipway.yaml (`analysis.metrics`).

export type MetricName = 'error_rate' | 'latency_p50' | 'latency_p99';

/** One request as the router measured it. `error`: status >= 500 or the request failed (no response). */
export interface Observation { latencyMs: number; error: boolean }

export interface AnalysisConfig {
  metrics: MetricName[];          // default all three
  confidence: number;             // default 0.98: two-sided, for the whole step and all metrics (see `looks`)
  tolerance: number;              // default 0.25: relative effect that matters (× |baseline level|)
  passScore: number;              // score >= passScore → Successful (default 95)
  marginalScore: number;          // score >= marginalScore → Inconclusive, below → Failed (default 75)
  minObservations: number;        // requests per group before any verdict other than Inconclusive (default 50)
  maxErrorRate?: number;          // absolute guard, e.g. 0.05: canary above it fails error_rate outright
  maxLatencyP99Ms?: number;       // absolute guard (ms): canary p99 above it fails latency_p99 outright
  /**
   * Planned judgements per step (the controller calls the judge after each interval with the step's
   * cumulative data). Every metric is tested at alpha = (1 − confidence)/(looks × metrics) (Bonferroni),
   * so an unchanged release is Failed within a step with probability <= (1 − confidence)/2. Default 3.
   */
  looks?: number;
  /** Score weights per metric; default 1 each. A failing metric contributes 0. */
  weights?: Partial<Record<MetricName, number>>;
  /**
   * Absolute floor of the material-effect margin, in the metric's unit (rate, ms): the margin is
   * max(tolerance × |baseline level|, minEffect). Defaults: error_rate 0.001 (0.1 pt), latencies 1 ms.
   */
  minEffect?: Partial<Record<MetricName, number>>;
}

export interface MetricVerdict {
  metric: string;                 // a MetricName
  result: 'Pass' | 'High' | 'Low' | 'NoData';
  canary: number;                 // the metric's level in the canary: rate, median ms, p99 ms (NaN: no sample)
  baseline: number;
  pValue: number | null;          // two-sided p of the metric's test
  effect: number | null;          // canary − baseline in the metric's unit (see metrics.ts for each estimator)
  lower: number | null;           // confidence interval of `effect` at the per-look level 1 − alpha
  upper: number | null;
  guardExceeded: boolean;
  reason: string;
  // ---- added: everything needed to re-derive the decision from the stored verdict
  failed: boolean;                // counts as 0 in the score: High (harm is "higher") or guard exceeded
  headline: string;               // one line for summaries: "error_rate: canary 9.8% vs baseline 0.9%, +8.9 pts, p=1.2e-9"
  margin: number | null;          // material effect: max(tolerance × |baseline|, minEffect)
  alpha: number;                  // per-look two-sided significance level
  weight: number;
  canarySamples: number;          // samples the test actually used
  baselineSamples: number;
  test: string;                   // which test produced pValue
}

export interface Verdict {
  outcome: 'Successful' | 'Failed' | 'Inconclusive';
  score: number;                  // 0–100, one decimal; 0 when there was too little traffic to judge
  metrics: MetricVerdict[];
  summary: string;
  canaryCount: number;
  baselineCount: number;
}

// Confidence intervals for rates (error rate). Pure.

import { normalQuantile } from './normal.ts';

/** Wilson score interval for a proportion x/n. Stays inside [0, 1] and is not degenerate at x = 0. */
export function wilson(x: number, n: number, confidence: number): { lower: number; upper: number } {
  if (n === 0) return { lower: 0, upper: 1 };
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const p = x / n, z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { lower: Math.max(0, centre - half), upper: Math.min(1, centre + half) };
}

/**
 * Newcombe's hybrid score interval (his method 10, 1998) for the difference of two proportions
 * x1/n1 − x2/n2, built from the two Wilson intervals. Unlike the Wald interval it behaves well for
 * rates near 0 — exactly the error-rate regime (0–2 %) — and never collapses to a point at 0 errors.
 */
export function newcombeDifference(x1: number, n1: number, x2: number, n2: number, confidence: number): { estimate: number; lower: number; upper: number } {
  const p1 = n1 > 0 ? x1 / n1 : 0, p2 = n2 > 0 ? x2 / n2 : 0;
  const w1 = wilson(x1, n1, confidence), w2 = wilson(x2, n2, confidence);
  const d = p1 - p2;
  return {
    estimate: d,
    lower: d - Math.sqrt((p1 - w1.lower) ** 2 + (w2.upper - p2) ** 2),
    upper: d + Math.sqrt((w1.upper - p1) ** 2 + (p2 - w2.lower) ** 2),
  };
}

// Student's t distribution: tail probabilities for real (Welch–Satterthwaite) degrees of freedom.
// Pure, no dependencies. Accuracy is checked against SciPy in test/analysis/blocks.test.ts.

import { normalCdf, normalSf } from './normal.ts';

/** P(T > t) for T ~ t(df), df > 0 (df = Infinity: the normal tail). Small upper tails keep relative precision. */
export function studentSf(t: number, df: number): number {
  if (Number.isNaN(t) || !(df > 0)) return NaN;
  if (df === Infinity || df > 1e7) return normalSf(t);
  if (t === Infinity) return 0;
  if (t === -Infinity) return 1;
  // P(|T| > |t|) = I_x(df/2, 1/2) with x = df / (df + t²); computed directly, so the tail never comes from 1 − (…)
  const tail = 0.5 * regularizedBeta(df / (df + t * t), df / 2, 0.5);
  return t > 0 ? tail : 1 - tail;
}

/** P(T ≤ t) for T ~ t(df). */
export function studentCdf(t: number, df: number): number {
  if (df === Infinity || df > 1e7) return normalCdf(t);
  return studentSf(-t, df);
}

/**
 * The regularized incomplete beta function I_x(a, b), by the continued fraction of Numerical Recipes
 * (modified Lentz), evaluated on whichever of I_x(a, b) and 1 − I_{1−x}(b, a) converges fast — with
 * the prefactor x^a (1 − x)^b / (a B(a, b)) taken through logarithms so tiny tails do not underflow early.
 */
export function regularizedBeta(x: number, a: number, b: number): number {
  if (Number.isNaN(x) || !(a > 0 && b > 0)) return NaN;
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const logFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x);
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(logFront) * betaFraction(x, a, b)) / a;
  return 1 - (Math.exp(logFront) * betaFraction(1 - x, b, a)) / b;
}

function betaFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1, d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 1000; m++) {
    const m2 = 2 * m;
    let num = (m * (b - m) * x) / ((a - 1 + m2) * (a + m2));
    d = 1 + num * d; if (Math.abs(d) < tiny) d = tiny;
    c = 1 + num / c; if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d; h *= d * c;
    num = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + 1 + m2));
    d = 1 + num * d; if (Math.abs(d) < tiny) d = tiny;
    c = 1 + num / c; if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const step = d * c;
    h *= step;
    if (Math.abs(step - 1) < 1e-15) break;
  }
  return h;
}

const LANCZOS = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];

/** ln Γ(x) for x > 0 (Lanczos, g = 7; relative error ~1e-15). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const y = x - 1;
  let s = LANCZOS[0];
  for (let i = 1; i < LANCZOS.length; i++) s += LANCZOS[i] / (y + i);
  const t = y + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(s);
}

// The standard normal distribution: CDF, upper tail and quantile, to double precision.
// Pure functions, no dependencies. Accuracy is checked against SciPy in test/analysis/normal.test.ts.

/**
 * Lower-tail probability Φ(x) = P(Z ≤ x).
 *
 * Hart's algorithm 5666 (as given by G. West, "Better approximations to cumulative normal functions",
 * Wilmott 2005): a rational approximation for |x| < 7.07 and a continued fraction beyond. It works on |x|
 * and returns the small tail directly, so upper tails like 1e-12 keep full relative precision (no 1 − Φ
 * cancellation), which matters because p-values live in the tails.
 */
export function normalCdf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const tail = smallTail(Math.abs(x));
  return x > 0 ? 1 - tail : tail;
}

/** Upper-tail probability P(Z > x) = 1 − Φ(x), without cancellation for large x. */
export function normalSf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const tail = smallTail(Math.abs(x));
  return x > 0 ? tail : 1 - tail;
}

/** P(Z > a) for a ≥ 0. */
function smallTail(a: number): number {
  if (a > 37) return 0;
  const e = Math.exp(-a * a / 2);
  if (a < 7.07106781186547) {
    let num = 3.52624965998911e-2 * a + 0.700383064443688;
    num = num * a + 6.37396220353165;
    num = num * a + 33.912866078383;
    num = num * a + 112.079291497871;
    num = num * a + 221.213596169931;
    num = num * a + 220.206867912376;
    let den = 8.83883476483184e-2 * a + 1.75566716318264;
    den = den * a + 16.064177579207;
    den = den * a + 86.7807322029461;
    den = den * a + 296.564248779674;
    den = den * a + 637.333633378831;
    den = den * a + 793.826512519948;
    den = den * a + 440.413735824752;
    return (e * num) / den;
  }
  let b = a + 0.65;
  b = a + 4 / b;
  b = a + 3 / b;
  b = a + 2 / b;
  b = a + 1 / b;
  return e / b / 2.506628274631;
}

const A = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
const B = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
const C = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
const D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];

/**
 * The quantile Φ⁻¹(p): the z with P(Z ≤ z) = p.
 * Acklam's rational approximation (relative error < 1.2e-9) refined by one Halley step on normalCdf,
 * which brings it to about machine precision.
 */
export function normalQuantile(p: number): number {
  if (Number.isNaN(p) || p < 0 || p > 1) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  const pLow = 0.02425;
  let x: number;
  if (p < pLow) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5]) / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1);
  } else if (p <= 1 - pLow) {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q) /
      (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x = -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5]) / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1);
  }
  // Halley refinement. In the upper half work with the upper tail so 1 − p does not lose digits.
  const err = p < 0.5 ? normalCdf(x) - p : (1 - p) - normalSf(x);
  const u = err * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}

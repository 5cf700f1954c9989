import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalCdf, normalQuantile, normalSf } from '../../src/analysis/normal.ts';
import { newcombeDifference, wilson } from '../../src/analysis/proportions.ts';
import { iqrFences, kthOfTwo, mergeSorted, pooledQuantile, quantileSorted, quantileStandardError, sortedFinite } from '../../src/analysis/quantile.ts';

const close = (actual: number, expected: number, rel: number, what = '') =>
  assert.ok(Math.abs(actual - expected) <= rel * Math.abs(expected) + 1e-300, `${what}: ${actual} vs ${expected} (rel ${rel})`);

test('normal CDF and upper tail match SciPy (relative, tails included)', () => {
  // scipy.stats.norm.cdf / .sf (SciPy 1.17)
  const ref: [number, number, number][] = [
    [-8, 6.22096057427174e-16, 0.9999999999999993],
    [-5, 2.866515718791933e-7, 0.9999997133484281],
    [-3.3, 0.00048342414238377744, 0.9995165758576162],
    [-1, 0.15865525393145707, 0.8413447460685429],
    [0, 0.5, 0.5],
    [0.5, 0.6914624612740131, 0.3085375387259869],
    [1.96, 0.9750021048517795, 0.024997895148220435],
    [2.713, 0.9966661446714005, 0.0033338553285995583],
    [4, 0.9999683287581669, 3.167124183311986e-5],
    [6, 0.9999999990134123, 9.865876450376946e-10],
  ];
  for (const [x, cdf, sf] of ref) {
    close(normalCdf(x), cdf, Math.abs(x) < 4.5 ? 1e-12 : 1e-8, `cdf(${x})`);
    close(normalSf(x), sf, Math.abs(x) < 4.5 ? 1e-12 : 1e-8, `sf(${x})`);
  }
  assert.equal(normalCdf(-40), 0);
  assert.ok(Number.isNaN(normalCdf(NaN)));
});

test('normal quantile matches SciPy and inverts the CDF', () => {
  const ref: [number, number][] = [
    [1e-12, -7.034483825301131], [1e-6, -4.753424308822899], [0.001, -3.090232306167813], [0.01, -2.3263478740408408],
    [0.02425, -1.972961051311885], [0.1, -1.2815515655446004], [0.975, 1.959963984540054], [0.99, 2.3263478740408408], [0.999, 3.090232306167813],
  ];
  for (const [p, z] of ref) assert.ok(Math.abs(normalQuantile(p) - z) < 1e-9, `ppf(${p}) = ${normalQuantile(p)}, want ${z}`);
  assert.equal(normalQuantile(0.5), 0);
  assert.equal(normalQuantile(0), -Infinity);
  assert.equal(normalQuantile(1), Infinity);
  for (const p of [1e-9, 0.003, 0.3, 0.7, 0.996]) close(normalCdf(normalQuantile(p)), p, 1e-10, `cdf(ppf(${p}))`);
});

test('type-7 quantiles match NumPy; pooled quantile equals the merged one', () => {
  const xs = sortedFinite([3.1, 1.2, 8.5, 4.4, 2.2, 9.9, 0.7, 5.5, 6.1, 7.3, NaN, Infinity]);
  assert.equal(xs.length, 10);
  // numpy.quantile(x, p) (default linear = type 7)
  const ref: [number, number][] = [[0, 0.7], [0.1, 1.15], [0.25, 2.425], [0.5, 4.95], [0.9, 8.64], [0.99, 9.774], [1, 9.9]];
  for (const [p, q] of ref) close(quantileSorted(xs, p), q, 1e-12, `q(${p})`);
  assert.ok(Number.isNaN(quantileSorted(new Float64Array(0), 0.5)));
  const f = iqrFences(xs, 3);
  close(f.high, quantileSorted(xs, 0.75) + 3 * (quantileSorted(xs, 0.75) - quantileSorted(xs, 0.25)), 1e-12, 'fence');

  let seed = 5;
  const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
  for (let t = 0; t < 300; t++) {
    const a = Float64Array.from({ length: Math.floor(rnd() * 9) }, () => Math.floor(rnd() * 5)).sort();
    const b = Float64Array.from({ length: 1 + Math.floor(rnd() * 9) }, () => Math.floor(rnd() * 5)).sort();
    const all = mergeSorted(a, b);
    for (let k = 0; k < all.length; k++) assert.equal(kthOfTwo(a, b, k), all[k]);
    for (const p of [0, 0.25, 0.5, 0.9, 0.99, 1]) close(pooledQuantile(a, b, p), quantileSorted(all, p), 1e-12, 'pooled');
  }
});

test('quantile standard error is the order-statistic interval width over 2z', () => {
  const xs = Float64Array.from({ length: 1000 }, (_, i) => i); // uniform ranks: SE of p99 ≈ √(n·p·(1−p)) = 3.15 ranks
  const se = quantileStandardError(xs, 0.99);
  assert.ok(se > 2.5 && se < 4, `se ${se}`);
});

test('Wilson and Newcombe intervals match the published values', () => {
  // Newcombe (1998), Stat Med 17:873, Table II, method 10 (hybrid score)
  const cases: [number, number, number, number, number, number][] = [
    [56, 70, 48, 80, 0.0524, 0.3339],
    [9, 10, 3, 10, 0.1705, 0.8090],
    [5, 56, 0, 29, -0.0381, 0.1926],
  ];
  for (const [x1, n1, x2, n2, lo, hi] of cases) {
    const ci = newcombeDifference(x1, n1, x2, n2, 0.95);
    assert.equal(Math.round(ci.lower * 1e4) / 1e4, lo, `${x1}/${n1} − ${x2}/${n2} lower ${ci.lower}`);
    assert.equal(Math.round(ci.upper * 1e4) / 1e4, hi, `${x1}/${n1} − ${x2}/${n2} upper ${ci.upper}`);
  }
  // Wilson 95 % for 0/10: [0, 0.2775] (Newcombe 1998a, Table I)
  const w = wilson(0, 10, 0.95);
  assert.equal(w.lower, 0);
  assert.equal(Math.round(w.upper * 1e4) / 1e4, 0.2775);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  binaryRankSum, exactUCdf, hodgesLehmann, hypergeometricTails, kthDifference, mannWhitney, selectDifferences, selectRanks,
} from '../../src/analysis/mannwhitney.ts';

// Independent reference: enumerate every way of labelling n of the N pooled values "canary" and compute U
// by brute force (O(n·m) pair comparisons) — the permutation distribution the exact test must reproduce.
function bruteU(a: number[], b: number[]): number {
  let u = 0;
  for (const x of a) for (const y of b) u += x > y ? 1 : x === y ? 0.5 : 0;
  return u;
}
function permutationP(a: number[], b: number[]): { less: number; greater: number; dist: number[] } {
  const pooled = [...a, ...b], n = a.length, N = pooled.length;
  const observed = bruteU(a, b);
  const dist: number[] = [];
  let less = 0, greater = 0, total = 0;
  const pick = (start: number, chosen: number[]) => {
    if (chosen.length === n) {
      const set = new Set(chosen);
      const u = bruteU(chosen.map((i) => pooled[i]), pooled.filter((_, i) => !set.has(i)));
      dist.push(u); total++;
      if (u <= observed) less++;
      if (u >= observed) greater++;
      return;
    }
    for (let i = start; i <= N - (n - chosen.length); i++) pick(i + 1, [...chosen, i]);
  };
  pick(0, []);
  return { less: less / total, greater: greater / total, dist };
}

test('textbook: tortoise and hare (Wikipedia, "Mann–Whitney U test"): U = 11, not significant at 5 %', () => {
  // finishing order T H H H H H T T T T T H: times are the positions
  const tortoise = [1, 7, 8, 9, 10, 11], hare = [2, 3, 4, 5, 6, 12];
  const r = mannWhitney(hare, tortoise); // U counts hare time > tortoise time = tortoise wins
  assert.equal(r.u, 11);
  assert.equal(r.method, 'exact');
  const ref = permutationP(hare, tortoise);
  assert.ok(Math.abs(r.pLess - ref.less) < 1e-12);
  assert.ok(Math.abs(r.pValue - Math.min(1, 2 * Math.min(ref.less, ref.greater))) < 1e-12);
  assert.ok(r.pValue > 0.05);
  // Published critical value for n1 = n2 = 6, two-sided 5 %: U ≤ 5 rejects.
  const cdf = exactUCdf(6, 6);
  assert.ok(cdf[5] <= 0.025 && cdf[6] > 0.025, `P(U<=5)=${cdf[5]}, P(U<=6)=${cdf[6]}`);
});

test('exact distribution: table values, symmetry, and agreement with full enumeration', () => {
  const c44 = exactUCdf(4, 4);
  assert.ok(Math.abs(c44[2] - 4 / 70) < 1e-15); // 1 + 1 + 2 arrangements of 70 give U ≤ 2
  assert.ok(Math.abs(c44[16] - 1) < 1e-15);
  for (const [n, m] of [[3, 7], [10, 5], [12, 12]]) {
    const cdf = exactUCdf(n, m);
    const pmf = (u: number) => cdf[u] - (u > 0 ? cdf[u - 1] : 0);
    for (let u = 0; u <= n * m; u++) assert.ok(Math.abs(pmf(u) - pmf(n * m - u)) < 1e-14, `symmetry ${n},${m},${u}`);
  }
  // n = 10, m = 5, no ties: exact p against enumeration of all C(15, 5) = 3003 labellings and SciPy
  const a = [0.8, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46], b = [1.15, 0.88, 0.9, 0.74, 1.21];
  const r = mannWhitney(a, b);
  const ref = permutationP(a, b);
  assert.equal(r.u, 35);
  assert.equal(r.method, 'exact');
  assert.ok(Math.abs(r.pGreater - ref.greater) < 1e-12 && Math.abs(r.pLess - ref.less) < 1e-12);
  assert.ok(Math.abs(r.pValue - 0.2544122544122544) < 1e-12); // scipy.stats.mannwhitneyu(a, b, method='exact')
});

test('normal approximation with ties and continuity correction matches SciPy / ClickHouse', () => {
  // ClickHouse tests/queries/0_stateless/01560_mann_whitney.sql expects U = 223, p = 0.5426959774289482
  const left = [310, 195, 530, 155, 530, 245, 385, 450, 465, 545, 170, 180, 125, 180, 230, 75, 430, 480, 495, 295];
  const right = [116, 171, 176, 421, 111, 326, 481, 111, 346, 441, 261, 411, 206, 521, 456, 446, 296, 51, 426, 261];
  const r = mannWhitney(left, right);
  assert.equal(r.u, 223);
  assert.equal(r.method, 'normal');
  assert.ok(r.ties);
  assert.ok(Math.abs(r.pValue - 0.5426959774289482) < 1e-13, `p ${r.pValue}`);

  // Heavy ties (7 distinct values): scipy.stats.mannwhitneyu(a, b, method='asymptotic') → U 75.5, p 0.5746835025678545,
  // one-sided 'greater' 0.28734175128392725
  const a = [1, 2, 2, 3, 3, 3, 4, 4, 5, 7, 7, 7], b = [1, 1, 2, 2, 3, 4, 4, 4, 5, 5, 6];
  const t = mannWhitney(a, b);
  assert.equal(t.u, 75.5);
  assert.equal(t.u, bruteU(a, b));
  assert.ok(Math.abs(t.pValue - 0.5746835025678545) < 1e-13);
  assert.ok(Math.abs(t.pGreater - 0.28734175128392725) < 1e-13);
  // the tie correction shrinks the variance: sd below the untied √(nm(N+1)/12)
  assert.ok(t.sd < Math.sqrt((12 * 11 * 24) / 12));
  // With ties the exact permutation distribution is not used (as in R): at 8 vs 7 with heavy ties the
  // approximation is rough (0.316 vs 0.368 by enumeration) but in the right place. The judge never
  // decides on samples this small (latency metrics need minObservations/2 = 25 per group by default).
  const ref = permutationP(a.slice(0, 8), b.slice(0, 7));
  const small = mannWhitney(a.slice(0, 8), b.slice(0, 7));
  assert.ok(Math.abs(small.pGreater - ref.greater) < 0.06, `${small.pGreater} vs exact ${ref.greater}`);
});

test('degenerate inputs: empty groups and all values tied give p = 1', () => {
  assert.equal(mannWhitney([], [1, 2]).pValue, 1);
  assert.equal(mannWhitney(new Array(60).fill(5), new Array(70).fill(5)).pValue, 1);
  assert.equal(mannWhitney([1, NaN, 2], [3, Infinity, 4]).n, 2);
});

test('0/1 data: exact test equals Fisher\'s exact test (SciPy)', () => {
  // scipy.stats.fisher_exact([[10, 990], [2, 998]]) → 0.03801124749285139; alternative='greater' → 0.019005623746425695
  const r = binaryRankSum(10, 1000, 2, 1000);
  assert.ok(Math.abs(r.pValue - 0.03801124749285139) < 1e-12);
  assert.ok(Math.abs(r.pGreater - 0.019005623746425695) < 1e-12);
  // U on 0/1 data is what the general test computes from expanded samples
  const expanded = (k: number, n: number) => Array.from({ length: n }, (_, i) => (i < k ? 1 : 0));
  const g = mannWhitney(expanded(10, 1000), expanded(2, 1000));
  assert.equal(r.u, g.u);
  assert.ok(Math.abs(r.sd - g.sd) < 1e-9);
  // scipy.stats.fisher_exact([[10, 1190], [0, 1200]]) → 0.0019167021742270572 (a new failure mode from zero)
  assert.ok(Math.abs(binaryRankSum(10, 1200, 0, 1200).pValue - 0.0019167021742270572) < 1e-12);
  // no events at all: nothing to compare
  assert.equal(binaryRankSum(0, 500, 0, 500).pValue, 1);
  // hypergeometric tails sum to 1 + P(X = x)
  const h = hypergeometricTails(7, 60, 20, 25);
  assert.ok(h.lower + h.upper > 1 && h.lower + h.upper < 1.3);
});

test('Hodges–Lehmann: small known sets and the exact Moses interval', () => {
  // differences a_i − b_j: 1, .5, 2, 1.5, 3, 2.5 → median (1.5 + 2)/2
  assert.equal(hodgesLehmann([1, 2, 3], [0, 0.5], 0.95).estimate, 1.75);
  assert.equal(hodgesLehmann([5], [2], 0.95).estimate, 3);
  assert.equal(hodgesLehmann([10, 11, 12, 13], [1, 2, 3, 4], 0.5).estimate, 9);

  const a = [0.8, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46], b = [1.15, 0.88, 0.9, 0.74, 1.21];
  const diffs = a.flatMap((x) => b.map((y) => x - y)).sort((x, y) => x - y);
  const hl = hodgesLehmann(a, b, 0.95);
  assert.equal(hl.estimate, (diffs[24] + diffs[25]) / 2); // 50 differences
  // c = largest with P(U ≤ c − 1) ≤ 2.5 %, from the enumerated permutation distribution
  const dist = permutationP(a, b).dist;
  let c = 1;
  while (dist.filter((u) => u <= c).length / dist.length <= 0.025) c++;
  assert.equal(hl.rank, c);
  assert.equal(hl.lower, diffs[c - 1]);
  assert.equal(hl.upper, diffs[50 - c]);
  assert.ok(hl.lower < hl.estimate && hl.estimate < hl.upper);
});

test('k-th pairwise difference is exact, with and without ties, on the coarse-to-fine path too', () => {
  let seed = 42;
  const rnd = () => { seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0; return (seed + 0.5) / 4294967296; };
  const gauss = () => Math.sqrt(-2 * Math.log(rnd())) * Math.cos(2 * Math.PI * rnd());
  for (const [n, m, round] of [[7, 9, false], [40, 33, true], [700, 900, false], [800, 600, true], [1, 1, false]] as const) {
    const gen = (k: number, scale: number) => Float64Array.from({ length: k }, () => { const v = scale * Math.exp(0.5 * gauss()); return round ? Math.round(v) : v; }).sort();
    const a = gen(n, 20), b = gen(m, 22);
    const all = new Float64Array(n * m);
    let w = 0;
    for (const x of a) for (const y of b) all[w++] = x - y;
    all.sort();
    for (const k of new Set([1, 2, Math.ceil((n * m) / 3), Math.ceil((n * m) / 2), n * m - 1, n * m].filter((k) => k >= 1 && k <= n * m))) {
      assert.equal(kthDifference(a, b, k), all[k - 1], `n=${n} m=${m} round=${round} k=${k}`);
      const hi = Math.min(n * m, k + 2);
      assert.deepEqual([...selectDifferences(a, b, k, hi)], [...all.subarray(k - 1, hi)]);
    }
  }
  // every difference identical
  const same = new Float64Array(3000).fill(4), other = new Float64Array(2000).fill(1);
  assert.equal(kthDifference(same, other, 1234567), 3);
  assert.throws(() => kthDifference(same, other, 0), RangeError);
});

test('selectRanks picks order statistics like a sort does', () => {
  let seed = 9;
  const rnd = () => { seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0; return seed / 4294967296; };
  for (let t = 0; t < 200; t++) {
    const len = 1 + Math.floor(rnd() * 60);
    const x = Float64Array.from({ length: len }, () => Math.floor(rnd() * 10));
    const sorted = Float64Array.from(x).sort();
    const from = Math.floor(rnd() * len), to = Math.min(len - 1, from + Math.floor(rnd() * 3));
    assert.deepEqual([...selectRanks(Float64Array.from(x), from, to)], [...sorted.subarray(from, to + 1)]);
  }
});

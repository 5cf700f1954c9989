// Query results: evaluated step arrays → the columnar result, and the [ts, value] view of it.
import type { Evaluated } from './aggregate.ts';
import type { Point, PointSeries, QueryResult, ResultSeries } from './types.ts';

/** The evaluated arrays as they are (JSON-ready: NaN prints as null), leaving out series without any value. */
export function toResultSeries(list: Evaluated[]): ResultSeries[] {
  const out: ResultSeries[] = [];
  for (const { labels, values } of list) {
    const n = values.length;
    let any = false;
    for (let k = 0; k < n && !any; k++) any = values[k] === values[k];
    if (any) out.push({ labels, values });
  }
  return out;
}

export function stepTimes(firstStep: number, stepMs: number, stepCount: number): number[] {
  const out = new Array<number>(stepCount);
  for (let k = 0; k < stepCount; k++) out[k] = firstStep + k * stepMs;
  return out;
}

/** The result with [ts, value] pairs per series instead of shared timestamps (steps without a value left out). */
export function withPoints(r: QueryResult): Omit<QueryResult, 'series' | 'timestamps'> & { series: PointSeries[] } {
  const { timestamps, series, ...rest } = r;
  return {
    ...rest,
    series: series.map(({ labels, values }) => {
      const points: Point[] = [];
      for (let k = 0; k < values.length; k++) if (values[k] === values[k]) points.push([timestamps[k], values[k]]);
      return { labels, points };
    }),
  };
}

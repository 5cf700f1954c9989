// "Did you mean": metric names close to what was typed, best first. Metric names are long and
// share prefixes (http_requests_total vs http_request_duration_seconds), so a substring match
// counts as close as well as a small edit distance.

export function closeMatches(word: string, candidates: readonly string[], limit = 3): string[] {
  const w = word.toLowerCase();
  const scored: [string, number][] = [];
  for (const c of candidates) {
    const lc = c.toLowerCase();
    const d = editDistance(w, lc);
    const budget = Math.max(2, Math.floor(w.length / 4));
    if (d <= budget) scored.push([c, d]);
    else if (w.length >= 4 && (lc.includes(w) || w.includes(lc))) scored.push([c, budget + 1 + Math.abs(lc.length - w.length) / 100]);
  }
  scored.sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]));
  return scored.slice(0, limit).map(([c]) => c);
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

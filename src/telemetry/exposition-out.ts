import type { Family, Sample } from './metrics/types.ts';

// Writes samples in the Prometheus text format (for Slipway's own GET /metrics). Pure.

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const escapeHelp = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

export function writeExposition(samples: Sample[], families: Family[]): string {
  const familyOf = (name: string) => families.find((f) => f.name === name) ?? families.find((f) => f.type === 'histogram' && /_(bucket|sum|count)$/.test(name) && name.replace(/_(bucket|sum|count)$/, '') === f.name);
  const groups = new Map<string, Sample[]>();
  for (const s of samples) {
    const key = familyOf(s.name)?.name ?? s.name;
    (groups.get(key) ?? groups.set(key, []).get(key)!).push(s);
  }
  const lines: string[] = [];
  for (const [name, list] of groups) {
    const family = families.find((f) => f.name === name);
    if (family?.help) lines.push(`# HELP ${name} ${escapeHelp(family.help)}`);
    lines.push(`# TYPE ${name} ${family?.type ?? 'untyped'}`);
    for (const s of list) {
      const labels = Object.entries(s.labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',');
      lines.push(`${s.name}${labels ? `{${labels}}` : ''} ${formatValue(s.value)}`);
    }
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/** Small statistics and text-table helpers for the bench report. */

/** Linear-interpolated quantile of `xs` (q in [0, 1]); NaN for no samples. */
export function quantile(xs: readonly number[], q: number): number {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

export function median(xs: readonly number[]): number {
  return quantile(xs, 0.5);
}

/** Median and range of `xs`. */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

export function spread(xs: readonly number[]): Spread {
  const f = xs.filter(Number.isFinite);
  return { median: median(f), min: f.length ? Math.min(...f) : NaN, max: f.length ? Math.max(...f) : NaN };
}

/** a / b, NaN unless both are finite and b is not 0. */
export function ratio(a: number, b: number): number {
  return Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : NaN;
}

export function fmt(x: number, digits = 1): string {
  return Number.isFinite(x) ? x.toFixed(digits) : 'n/a';
}

export function fmtRatio(x: number): string {
  return Number.isFinite(x) ? `${x.toFixed(2)}×` : 'n/a';
}

/** "median (min–max)" of a spread, formatted with `f`. */
export function fmtSpread(s: Spread, f: (x: number) => string): string {
  if (!Number.isFinite(s.median)) return 'n/a';
  return s.min === s.max ? f(s.median) : `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
}

/** Renders rows as an aligned text table; the first row is the header. */
export function table(rows: readonly (readonly string[])[]): string {
  const header = rows[0] ?? [];
  const widths = header.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: readonly string[]): string =>
    r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

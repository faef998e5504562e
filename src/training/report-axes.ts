/**
 * Axis ticks for the report's charts: round values (1, 2 or 5 times a power of ten) inside the
 * axis range, and labels with the same number of decimals on one axis. Tick values are computed
 * as integers divided by an integer (not as lo + i * step), so 0.1 * 3 never prints as
 * 0.30000000000000004.
 */

/** The round step that gives about `count` ticks over [lo, hi]. */
export function tickStep(lo: number, hi: number, count = 5): number {
  const raw = Math.abs(hi - lo) / Math.max(1, count);
  if (!(raw > 0) || !Number.isFinite(raw)) return 0;
  const power = 10 ** Math.floor(Math.log10(raw));
  const r = raw / power;
  // Thresholds at the geometric means of 1, 2, 5, 10: the nearest round multiplier.
  return power * (r >= Math.sqrt(50) ? 10 : r >= Math.sqrt(10) ? 5 : r >= Math.sqrt(2) ? 2 : 1);
}

/** Round tick values inside [lo, hi], ascending; [lo] when the range is a single value. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi < lo) [lo, hi] = [hi, lo];
  const step = tickStep(lo, hi, count);
  // A range lost in rounding noise (0.3 to 0.30000000000000004) is one value.
  if (step === 0 || hi - lo <= Math.max(Math.abs(lo), Math.abs(hi)) * 1e-12) return [lo];
  // Below 1 the step is 1/inverse for a whole inverse (0.2 = 1/5): dividing by it is exact-rounded.
  const inverse = step < 1 ? Math.round(1 / step) : 0;
  const value = (k: number) => (inverse ? k / inverse : k * step);
  const first = inverse ? Math.ceil(lo * inverse - 1e-9) : Math.ceil(lo / step - 1e-9);
  const last = inverse ? Math.floor(hi * inverse + 1e-9) : Math.floor(hi / step + 1e-9);
  const ticks: number[] = [];
  for (let k = first; k <= last; k++) ticks.push(value(k) || 0);
  return ticks;
}

/** A tick label: as many decimals as the step needs, thousands grouped; exponent form past 1e9. */
export function formatTick(value: number, step: number): string {
  value ||= 0; // no "-0"
  if (!(step > 0)) return String(Number(value.toPrecision(6)));
  const decimals = step > 0 ? Math.max(0, -Math.floor(Math.log10(step) + 1e-9)) : 0;
  if (value !== 0 && (Math.abs(value) >= 1e9 || decimals > 6)) {
    const digits = step > 0 ? Math.max(0, Math.floor(Math.log10(Math.abs(value))) - Math.floor(Math.log10(step) + 1e-9)) : 3;
    return Number(value.toPrecision(Math.min(21, digits + 1))).toExponential();
  }
  return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/** Ticks with their labels, for one axis over [lo, hi]. */
export function axisTicks(lo: number, hi: number, count = 5): { value: number; label: string }[] {
  const ticks = niceTicks(lo, hi, count);
  const step = ticks.length > 1 ? tickStep(lo, hi, count) : 0;
  return ticks.map((value) => ({ value, label: formatTick(value, step) }));
}

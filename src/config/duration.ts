/**
 * Durations in definitions: `0`, or an integer followed by a unit (`30s`, `15m`, `1h`, `7d`, `2w`).
 * Kept to whole units so that a definition's meaning (and its version hash) has one spelling.
 */
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 } as const;

export const DURATION_PATTERN = /^(0|[1-9][0-9]*(s|m|h|d|w))$/;

/** Seconds in a duration string already checked against DURATION_PATTERN (or a number of seconds). */
export function durationSeconds(value: string | number): number {
  if (typeof value === 'number') return value;
  if (value === '0') return 0;
  const unit = value.at(-1) as keyof typeof UNIT_SECONDS;
  return Number(value.slice(0, -1)) * UNIT_SECONDS[unit];
}

/** The shortest exact spelling of a number of seconds: 86400 -> "1d", 5400 -> "90m". */
export function formatDuration(seconds: number): string {
  if (seconds === 0) return '0';
  for (const [unit, size] of [['w', 604_800], ['d', 86_400], ['h', 3600], ['m', 60]] as const) {
    if (seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

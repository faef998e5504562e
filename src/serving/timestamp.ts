/**
 * A timestamp request field, however a transport carries it: epoch milliseconds (a number, or a
 * string of digits: KServe BYTES, the CLI) or an ISO 8601 date-time with its offset
 * (`2001-01-31T17:05:00+02:00`, `2001-01-31T15:05:00Z`, fractions of a second allowed) or a date
 * (`2001-01-31`, midnight UTC). One function for every transport: the dataframe preparer calls it
 * for the plan's timestamp inputs, whatever transport the row came over (WebSocket/HTTP frames,
 * KServe JSON and binary, gRPC, `fresco predict --field`).
 *
 * A date-time without an offset is refused: which zone it means is a guess (JavaScript's
 * Date.parse would take the server's local zone), and a guess shifts every hour-of-day feature.
 */

/** Named in every error about a timestamp field. */
export const TIMESTAMP_FORMATS = 'epoch milliseconds (a number) or ISO 8601 with an offset or Z (2001-01-31T17:05:00+02:00, 2001-01-31T15:05:00Z) or a date (2001-01-31, midnight UTC)';

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|z|[+-]\d{2}(?::?\d{2})?))?$/;
const DIGITS = /^-?\d{1,16}$/;

/** Epoch milliseconds of a timestamp string, or NaN when it is none of TIMESTAMP_FORMATS. */
export function parseTimestamp(text: string): number {
  if (DIGITS.test(text)) return Number(text);
  const m = ISO.exec(text);
  if (!m) return NaN;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  // A time needs its zone; a date alone is a calendar day, taken at midnight UTC.
  if (h !== undefined && zone === undefined) return NaN;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h ?? 0);
  const minute = Number(mi ?? 0);
  const second = Number(s ?? 0);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return NaN;
  const ms = frac === undefined ? 0 : Math.floor(Number(`0.${frac}`) * 1000);
  let t = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  // Date.UTC rolls 2001-02-30 over into March: a day past the month's end is refused instead.
  if (new Date(t).getUTCDate() !== day) return NaN;
  if (zone !== undefined && zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = Number(digits.slice(2) || 0);
    if (oh > 23 || om > 59) return NaN;
    t -= sign * (oh * 60 + om) * 60_000;
  }
  return t;
}

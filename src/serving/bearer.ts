/**
 * The admin API's bearer token check. The scheme is case-insensitive (RFC 7235: `bearer`,
 * `Bearer` and `BEARER` are one scheme), and the token is compared through sha256 digests of
 * equal length, so neither the comparison's time nor an early length check tells a caller how
 * long the token is or how much of it matched.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Whether `header` (an Authorization header) carries `token` with the Bearer scheme. */
export function bearerMatches(header: string | undefined, token: string | undefined): boolean {
  if (!token || !header) return false;
  const m = /^bearer[ \t]+(\S.*?)[ \t]*$/i.exec(header);
  if (!m) return false;
  return timingSafeEqual(digest(m[1] as string), digest(token));
}

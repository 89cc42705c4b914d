// A session cookie too big for one cookie, spread over several ("chunks"):
// `sid.0`, `sid.1`, ... (the session cookie's name on the wire, a dot, the
// index). Chunks are only transport: the value they join into is what the
// mode seals and opens, so the seal covers every chunk, and the
// verified-cookie cache is keyed by the joined value. A value that fits
// one cookie keeps the plain name.
//
// Reading takes one shape or the other, never a mix, and refuses a missing,
// duplicated or extra chunk ("no session"). Writing makes every response
// state the whole shape: besides the cookies it sets, it expires every
// other name a session of this middleware may be using (the plain name,
// each chunk name up to the maximum, and any higher chunk name the request
// carried). The server only sees the cookies this request carried; another
// response may cross this one, and a request outside the cookies' Path
// carries none. So whatever the browser held before, once it has applied
// a response, it holds exactly that response's session.
import type { Context } from "hono";
import {
  COOKIE_LIMIT,
  type CookieAttributes,
  type CookiePair,
  type CookieRead,
  type CookieTemplate,
  cookieTemplate,
  emit,
  line,
  readCookie,
  type Refusal,
  type SessionCookies,
} from "./cookies.ts";

/** The most chunks a session may be spread over: `sid.0` to `sid.9`. */
export const MAX_CHUNKS = 10;
/**
 * Chunks allowed by `cookieChunks: true`: about 12 KB of cookies, which
 * leaves room for the rest of a request within Node's and Bun's 16 KiB of
 * request headers.
 */
export const DEFAULT_CHUNKS = 3;

/** In a {@linkcode CookieRead}'s `names`: the plain name was sent. */
export const PLAIN = 1 << MAX_CHUNKS;

/** How one middleware spreads its session cookie over chunks. */
interface ChunkLayout {
  /** The most chunks a value may take. */
  readonly max: number;
  /** The session cookie's name on the wire and a dot: `sid.`. */
  readonly prefix: string;
  /** Characters of value each chunk holds (4096 less its name). */
  readonly capacity: number;
  /**
   * The templates of every chunk name, `sid.0` to `sid.9`: a write also
   * expires chunk names above `max` that the request carried.
   */
  readonly templates: readonly CookieTemplate[];
}

function chunkLayout(
  name: string,
  wireName: string,
  attributes: CookieAttributes,
  max: number,
): ChunkLayout {
  const templates: CookieTemplate[] = [];
  for (let i = 0; i < MAX_CHUNKS; i++) {
    templates.push(Object.freeze(cookieTemplate(`${name}.${i}`, attributes)));
  }
  return Object.freeze({
    max,
    prefix: `${wireName}.`,
    // Every chunk name is the plain one and two characters: ".0" to ".9".
    capacity: COOKIE_LIMIT - wireName.length - 2,
    templates: Object.freeze(templates),
  });
}

/** Whether `name` is a chunk name of the session cookie `wireName`. */
export function isChunkName(name: string, wireName: string): boolean {
  return name.startsWith(`${wireName}.`) &&
    /^\d+$/.test(name.slice(wireName.length + 1));
}

// In `names` of what a request carried: bit `i` for `sid.i` (below 10),
// PLAIN for `sid`. A write expires those beyond what it sets.
const NOTHING: CookieRead = Object.freeze({ value: undefined, names: 0 });
// What Hono's cookie parser accepts in a value.
const COOKIE_VALUE = /^[ !#-:<-[\]-~]*$/;

function trimBlanks(text: string): string {
  return text.replace(/^[ \t]+|[ \t]+$/g, "");
}

// The index a chunk name ends with: a number, NaN for a spelling this
// middleware never writes (a leading zero), or undefined when the name only
// starts like a chunk's (`sid.theme`: another cookie).
function chunkIndex(suffix: string): number | undefined {
  if (!/^\d+$/.test(suffix)) return undefined;
  return suffix.length > 1 && suffix[0] === "0" ? NaN : Number(suffix);
}

/**
 * The session cookie's value from the request, plain or joined from its
 * chunks, with the names it sent. No value when it sent none, or sent
 * something this middleware never writes: both shapes at once, a chunk
 * missing, twice, beyond the maximum or alone, a chunk too long or not a
 * cookie value (reported through `refuse`).
 */
function readChunked(
  c: Context,
  wireName: string,
  layout: ChunkLayout,
  refuse?: (reason: Refusal) => void,
): CookieRead {
  const header = c.req.raw.headers.get("cookie");
  if (!header || !header.includes(wireName)) return NOTHING;
  // No chunk name anywhere: the plain cookie alone, read as ever.
  if (!header.includes(layout.prefix)) {
    return { value: readCookie(c, wireName, refuse), names: PLAIN };
  }
  const values: string[] = [];
  let names = 0;
  let seen = 0;
  let count = 0;
  let plain = false;
  let problem: Refusal | undefined;
  // One pass over the header, whatever it holds: a header with thousands
  // of chunk names costs no more than its length.
  for (const pair of header.split(";")) {
    const eq = pair.indexOf("=");
    if (eq === -1) continue;
    const name = trimBlanks(pair.slice(0, eq));
    if (name === wireName) {
      plain = true;
      names |= PLAIN;
      continue;
    }
    if (!name.startsWith(layout.prefix)) continue;
    const index = chunkIndex(name.slice(layout.prefix.length));
    if (index === undefined) continue;
    if (index < MAX_CHUNKS) names |= 1 << index;
    if (Number.isNaN(index)) {
      problem ??= "malformed";
    } else if (index >= layout.max) {
      problem ??= "oversized";
    } else if (seen & (1 << index)) {
      problem ??= "duplicate";
    } else {
      seen |= 1 << index;
      count++;
      values[index] = trimBlanks(pair.slice(eq + 1));
    }
  }
  if (problem === undefined && count === 0) {
    // Only names that start like a chunk's: the plain cookie, if any.
    return {
      value: plain ? readCookie(c, wireName, refuse) : undefined,
      names,
    };
  }
  // Both shapes (a chunked session and a plain one), a lone chunk (never
  // written: a value that fits one cookie keeps the plain name), or a gap.
  if (
    problem === undefined &&
    (plain || count === 1 || seen !== (1 << count) - 1)
  ) problem = "malformed";
  for (let i = 0; problem === undefined && i < count; i++) {
    const value = values[i]!;
    if (value.length === 0 || !COOKIE_VALUE.test(value)) problem = "malformed";
    else if (layout.prefix.length + 1 + value.length > COOKIE_LIMIT) {
      problem = "oversized";
    }
  }
  let value: string | undefined;
  if (problem === undefined) {
    value = values.join("");
    if (value.includes("%")) {
      try {
        value = decodeURIComponent(value);
      } catch {
        problem = "malformed";
        value = undefined;
      }
    }
  }
  if (problem !== undefined) refuse?.(problem);
  return { value, names };
}

/**
 * Splits a cookie value (already encoded for the Cookie header) into
 * chunks of at most `capacity` (12 or more) characters, never through a
 * `%XX` escape nor through the escapes of one UTF-8 character, so each
 * chunk decodes on its own.
 */
export function splitValue(encoded: string, capacity: number): string[] {
  const pieces: string[] = [];
  for (let at = 0; at < encoded.length;) {
    let end = Math.min(at + capacity, encoded.length);
    if (end < encoded.length) {
      if (encoded[end - 1] === "%") end -= 1;
      else if (encoded[end - 2] === "%") end -= 2;
      // Not before a continuation byte (%80 to %BF): at most three of them
      // follow the first byte of a character.
      while (end > at + 3 && /^%[89AB]/.test(encoded.slice(end, end + 2))) {
        end -= 3;
      }
    }
    pieces.push(encoded.slice(at, end));
    at = end;
  }
  return pieces;
}

// Expires each chunk name from `from` on that a session may be using: up
// to the maximum, and any beyond it the request carried (the maximum was
// lowered since they were written).
function expireChunks(
  lines: string[],
  layout: ChunkLayout,
  from: number,
  carried: number,
): void {
  for (let i = from; i < MAX_CHUNKS; i++) {
    if (i < layout.max || (carried & (1 << i)) !== 0) {
      lines.push(line(layout.templates[i]!, "", 0));
    }
  }
}

/**
 * Sets the session cookie, plain or in chunks, and the exists cookie, for
 * `seconds` (undefined: until the browser closes), and expires every other
 * name the session may be using.
 *
 * @param carried The names the request sent.
 * @returns The session cookie's size: names and values of what it set.
 * @throws {RangeError} When the value needs more chunks than allowed.
 */
function writeChunked(
  c: Context,
  cookies: CookiePair,
  layout: ChunkLayout,
  value: string,
  seconds: number | undefined,
  carried: number,
): number {
  const encoded = encodeURIComponent(value);
  const lines: string[] = [];
  let used = 0;
  let size = cookies.wireName.length + encoded.length;
  if (size <= COOKIE_LIMIT) {
    lines.push(line(cookies.session, encoded, seconds));
  } else {
    const pieces = encoded.length <= layout.max * layout.capacity
      ? splitValue(encoded, layout.capacity)
      : [];
    if (pieces.length === 0 || pieces.length > layout.max) {
      throw new RangeError(
        `session cookie "${cookies.wireName}" would be ${
          cookies.wireName.length + encoded.length
        } bytes, over the ${layout.max} cookies of ${COOKIE_LIMIT} bytes (names included) that cookieChunks allows; store less in the session, allow more chunks (within your servers' request-header limits), or use a store so the cookie holds only an id`,
      );
    }
    pieces.forEach((piece, i) => {
      lines.push(line(layout.templates[i]!, piece, seconds));
    });
    lines.push(line(cookies.session, "", 0));
    used = pieces.length;
    // Each chunk's name is the plain one and two characters: ".0" to ".9".
    size += used * (cookies.wireName.length + 2) - cookies.wireName.length;
  }
  expireChunks(lines, layout, used, carried);
  lines.push(line(cookies.exists, "1", seconds));
  emit(c, lines);
  return size;
}

/** Expires the session cookie in either shape, and the exists cookie. */
function clearChunked(
  c: Context,
  cookies: CookiePair,
  layout: ChunkLayout,
  carried: number,
): void {
  const lines = [line(cookies.session, "", 0)];
  expireChunks(lines, layout, 0, carried);
  lines.push(line(cookies.exists, "", 0));
  emit(c, lines);
}

/**
 * The session cookie spread over up to `max` chunks when it does not fit
 * one cookie. Built once, when the middleware is created.
 */
export function chunkedCookies(
  pair: CookiePair,
  name: string,
  attributes: CookieAttributes,
  max: number,
): SessionCookies {
  const layout = chunkLayout(name, pair.wireName, attributes, max);
  return Object.freeze({
    ...pair,
    read: (c: Context, refuse?: (reason: Refusal) => void): CookieRead =>
      readChunked(c, pair.wireName, layout, refuse),
    write(
      c: Context,
      value: string,
      seconds: number | undefined,
      carried: number,
    ): number {
      return writeChunked(c, pair, layout, value, seconds, carried);
    },
    clear(c: Context, carried: number): void {
      clearChunked(c, pair, layout, carried);
    },
    uses: (name: string): boolean =>
      name === pair.wireName || name === pair.existsWireName ||
      isChunkName(name, pair.wireName),
  });
}

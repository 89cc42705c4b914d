// Session ids in store mode: their shape, and the hash that turns one into
// the key a store sees.
import { sha256Ascii } from "./sha256.ts";

export { randomToken } from "../_lib/random.ts";

const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** Whether `value` has the shape of a token made by `randomToken()`. */
export function isToken(value: string): boolean {
  return value.length === 43 && TOKEN.test(value);
}

const ALPHABET =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const codes: number[] = new Array(43).fill(0);

/**
 * The key a store keeps a session under: the SHA-256 of its id, as 43
 * base64url characters (the 256 bits six at a time, the last character's
 * two spare bits zero). A leaked store holds no usable session id.
 */
export function storeKey(token: string): string {
  const words = sha256Ascii(token);
  let acc = 0; // pending bits, at most 6 + 31 of them
  let bits = 0;
  let o = 0;
  for (let i = 0; i < 8; i++) {
    const w = words[i]!;
    // Take the word 16 bits at a time so the accumulator stays small.
    for (let half = 16; half >= 0; half -= 16) {
      acc = (acc << 16) | ((w >>> half) & 0xffff);
      bits += 16;
      while (bits >= 6) {
        bits -= 6;
        codes[o++] = ALPHABET.charCodeAt((acc >>> bits) & 63);
      }
      acc &= (1 << bits) - 1;
    }
  }
  codes[o] = ALPHABET.charCodeAt((acc << (6 - bits)) & 63);
  return String.fromCharCode.apply(null, codes);
}

// Session ids in store mode: their shape, and the hash that turns one into
// the key a store sees.
import { toBase64url } from "../_lib/encoding.ts";
import { sha256Ascii } from "./sha256.ts";

export { randomToken } from "../_lib/random.ts";

const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** Whether `value` has the shape of a token made by `randomToken()`. */
export function isToken(value: string): boolean {
  return value.length === 43 && TOKEN.test(value);
}

/**
 * The key a store keeps a session under: the SHA-256 of its id, as 43
 * base64url characters. A leaked store holds no usable session id.
 */
export function storeKey(token: string): string {
  const words = sha256Ascii(token);
  const bytes = new Uint8Array(32);
  for (let i = 0; i < 8; i++) {
    const w = words[i]!;
    bytes[i * 4] = w >>> 24;
    bytes[i * 4 + 1] = (w >>> 16) & 0xff;
    bytes[i * 4 + 2] = (w >>> 8) & 0xff;
    bytes[i * 4 + 3] = w & 0xff;
  }
  return toBase64url(bytes);
}

// Random tokens for session ids and throwaway secrets, and the hash that
// turns a session id into the key a store sees.

import { sha256Ascii } from "./_sha256.ts";

const BASE64URL =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

function encode(bytes: Uint8Array, length: number): string {
  let out = "";
  for (let i = 0; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += BASE64URL[n >> 18] + BASE64URL[(n >> 12) & 63] +
      BASE64URL[(n >> 6) & 63] + BASE64URL[n & 63];
  }
  return out.slice(0, length);
}

/**
 * 256 bits (and 2 more) from the platform's CSPRNG, as 43 base64url
 * characters. All 6 bits of every character are random (the 43 characters
 * come from 33 bytes), so a token is never decoded and has no second
 * spelling: each 43-character string is its own id.
 */
export function randomToken(): string {
  return encode(crypto.getRandomValues(new Uint8Array(33)), 43);
}

/** Whether `value` has the shape of a token made by {@linkcode randomToken}. */
export function isToken(value: string): boolean {
  return value.length === 43 && /^[A-Za-z0-9_-]{43}$/.test(value);
}

/**
 * The key a store keeps a session under: the SHA-256 of its id, as 43
 * base64url characters. A leaked store holds no usable session id.
 */
export function storeKey(token: string): string {
  const words = sha256Ascii(token);
  const bytes = new Uint8Array(33);
  for (let i = 0; i < 8; i++) {
    const w = words[i];
    bytes[i * 4] = w >>> 24;
    bytes[i * 4 + 1] = (w >>> 16) & 0xff;
    bytes[i * 4 + 2] = (w >>> 8) & 0xff;
    bytes[i * 4 + 3] = w & 0xff;
  }
  return encode(bytes, 43);
}

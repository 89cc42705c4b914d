// Random tokens for session ids and throwaway secrets.

const BASE64URL =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** 256 bits from the platform's CSPRNG, as 43 base64url characters. */
export function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(33));
  let out = "";
  for (let i = 0; i < 33; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += BASE64URL[n >> 18] + BASE64URL[(n >> 12) & 63] +
      BASE64URL[(n >> 6) & 63] + BASE64URL[n & 63];
  }
  return out.slice(0, 43);
}

/** Whether `value` has the shape of a token made by {@linkcode randomToken}. */
export function isToken(value: string): boolean {
  return value.length === 43 && /^[A-Za-z0-9_-]{43}$/.test(value);
}

// Random tokens: session ids, and the throwaway secret of a middleware
// given none.

const ALPHABET =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// Reused on every call: filled anew from the CSPRNG before each use, and
// never leaves this module.
const bytes = new Uint8Array(43);
const codes: number[] = new Array(43).fill(0);

/**
 * 258 bits from the platform's CSPRNG, as 43 base64url characters: each
 * character is one random byte's low 6 bits (256 is a multiple of 64, so
 * every character is uniform). A token is never decoded and has no second
 * spelling: each 43-character string is its own id.
 */
export function randomToken(): string {
  crypto.getRandomValues(bytes);
  for (let i = 0; i < 43; i++) {
    codes[i] = ALPHABET.charCodeAt(bytes[i]! & 63);
  }
  return String.fromCharCode.apply(null, codes);
}

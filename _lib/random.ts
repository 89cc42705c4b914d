// Random tokens: session ids, and the throwaway secret of a middleware
// given none.
import { toBase64url } from "./encoding.ts";

/**
 * 256 bits (and 2 more) from the platform's CSPRNG, as 43 base64url
 * characters. All 6 bits of every character are random (the 43 characters
 * come from 33 bytes), so a token is never decoded and has no second
 * spelling: each 43-character string is its own id.
 */
export function randomToken(): string {
  return toBase64url(crypto.getRandomValues(new Uint8Array(33))).slice(0, 43);
}

/**
 * The shape of a cookie-mode encoder.
 *
 * @module
 */
import type { SessionRecord, StoredSession } from "./session_store.ts";

/**
 * Turns a session into the cookie's value and back, in cookie mode. The
 * default seals with iron (AES-256-CBC and HMAC-SHA-256, through
 * `iron-webcrypto`); supply your own only if you need another format.
 *
 * Both methods get the secret as the app configured it: `encode` the
 * newest, `decode` each configured secret in turn, newest first, until one
 * opens the value. So an encoder that shares the secret with another system
 * reads that system's cookies and writes cookies it reads. The built-in
 * iron encoder binds each secret to this middleware's cookie (a seal made
 * for another cookie does not open); a custom encoder takes that on itself.
 *
 * `decode` must refuse anything it did not produce with that secret, by
 * throwing or by returning `null`: the middleware then treats the request as
 * having no session. Whatever it returns is checked again before use, and
 * it runs on every request (it may revoke a value).
 *
 * @example An encoder built on iron-webcrypto with other settings
 * ```ts
 * import { defaults, seal, unseal } from "iron-webcrypto";
 * import type { Encoder, SessionRecord } from "@x/hono-session";
 *
 * const encoder: Encoder = {
 *   encode: (record, secret) =>
 *     seal(record, secret, { ...defaults, encryption: { ...defaults.encryption, iterations: 2 } }),
 *   decode: async (value, secret) =>
 *     await unseal(value, secret, { ...defaults, encryption: { ...defaults.encryption, iterations: 2 } }) as SessionRecord,
 * };
 * ```
 */
export interface Encoder {
  /** Seals `record` into a cookie-safe string. */
  encode(record: SessionRecord, secret: string): string | Promise<string>;
  /** Opens a string made by `encode`; throws or returns `null` for anything else. */
  decode(
    value: string,
    secret: string,
  ):
    | StoredSession
    | null
    | undefined
    | Promise<StoredSession | null | undefined>;
}

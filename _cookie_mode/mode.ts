// Cookie mode: the whole session travels in the cookie, sealed. This mode
// owns the keys (bound to this middleware's cookie), the seal format, and
// the cache of cookie values already verified.
import type { Context } from "hono";
import type { SessionEvent } from "../session_event.ts";
import type { ResolvedOptions } from "../_core/options.ts";
import type { Loaded, Mode, Saved } from "../_core/mode.ts";
import type { Outgoing } from "../_core/state.ts";
import type { SessionMeta } from "../_core/lifetime.ts";
import { Lru } from "../_lib/lru.ts";
import { Keyring } from "./keyring.ts";
import { type Compression, openSeal, sealRecord } from "./seal.ts";
import { COOKIE_LIMIT } from "../_http/cookies.ts";
import { V1, v1Meta, type V1Session } from "../_migrate/hono_session_v1.ts";
import { V1Seals } from "./v1_seals.ts";
import { productionSign, warnRandomSecret } from "./random_secret.ts";

/**
 * Verified cookie values per cache generation: one middleware remembers up
 * to twice as many (see _lib/lru.ts), within the byte budget below.
 */
export const VERIFIED_CACHE_LIMIT = 10_000;
/**
 * About how many bytes of memory the verified-cookie cache of one
 * middleware may hold: a flood of distinct large cookies costs no more.
 */
export const VERIFIED_CACHE_BYTES = 4 * 2 ** 20;

/** A cookie value seen verified, and what it holds. */
interface Verified {
  meta: SessionMeta;
  /** The values as JSON. */
  json: string;
  /** `json` parsed, once, read by requests but never written. */
  parsed?: Record<string, unknown>;
  /** Which secret opened it: 0 for the newest. */
  keyIndex: number;
}

// What a verified cookie costs to keep, roughly: the cookie's text and the
// values' JSON (one byte a character), and the shared parse of the values,
// whose objects and arrays cost far more than their two characters of
// JSON (V8 gives each a header and a backing store): priced at 80 bytes
// each, so a cookie full of tiny objects cannot pass the budget.
function verifiedBytes(cookie: string, seen: Verified): number {
  const json = seen.json;
  let containers = 0;
  // indexOf, not a loop over every character: several times faster on the
  // large values of a chunked session.
  for (let i = json.indexOf("{"); i !== -1; i = json.indexOf("{", i + 1)) {
    containers++;
  }
  for (let i = json.indexOf("["); i !== -1; i = json.indexOf("[", i + 1)) {
    containers++;
  }
  return 256 + cookie.length + 2 * json.length + 80 * containers;
}

/** The session sealed into the cookie; the handle is the cookie's value. */
export class CookieMode implements Mode<string> {
  readonly #options: ResolvedOptions;
  readonly #keys: Keyring;
  /**
   * Iron seals already verified, by exact value. Only genuine seals enter
   * (forged ones cannot fill it), and a custom encoder's values never do:
   * its `decode` may revoke a value, so it decides on every request.
   */
  readonly #verified: Lru<string, Verified> = new Lru(
    VERIFIED_CACHE_LIMIT,
    VERIFIED_CACHE_BYTES,
    verifiedBytes,
  );

  /** With the compression option: its format, and from what size it is tried. */
  readonly #compression: Compression | undefined;

  /**
   * With `migrateFrom: "hono-session@1"`: opens that library's cookies.
   * Consulted only for a cookie that is none of ours.
   */
  readonly #v1: V1Seals | undefined;

  /**
   * No secret configured: the key is random, drawn by this process. The
   * environment is looked at once, at the first session this middleware
   * handles (random_secret.ts says why and what is said).
   */
  readonly #random: boolean;
  #looked = false;
  /** A cookie was sealed with the random key: seals of others now tell. */
  #sealed = false;

  constructor(options: ResolvedOptions) {
    this.#options = options;
    this.#keys = new Keyring(
      options.secrets,
      `cookie:${options.cookies.wireName}`,
    );
    // Tried only for a session whose plain seal would not fit one cookie.
    this.#compression = options.compression && {
      format: options.compression,
      above: COOKIE_LIMIT - options.cookies.wireName.length,
    };
    this.#v1 = options.migrateFrom === V1 && options.secrets
      ? new V1Seals(options.secrets)
      : undefined;
    this.#random = options.secrets === undefined;
    this.#looked = !this.#random;
  }

  // Once per middleware with a random key: does the environment say
  // production?
  #look(c: Context): void {
    this.#looked = true;
    const sign = productionSign(c.req.url);
    if (sign !== undefined) warnRandomSecret(sign);
  }

  #report(event: SessionEvent, c: Context): void {
    this.#options.onEvent?.(event, c);
  }

  async load(value: string, c: Context): Promise<Loaded<string> | undefined> {
    if (!this.#looked) this.#look(c);
    const custom = this.#options.encoder !== undefined;
    let seen = custom ? undefined : this.#verified.get(value);
    if (seen === undefined) {
      const opened = await openSeal(
        value,
        this.#keys,
        this.#options.encoder,
        this.#v1,
      );
      if ("refused" in opened) {
        if (opened.otherKey && this.#random && this.#sealed) {
          warnRandomSecret(
            "a cookie sealed with another random key arrived after this process had sealed its own: another process, worker or isolate issues sessions beside this one",
          );
        }
        this.#report({ type: "invalid-cookie", reason: opened.refused }, c);
        return undefined;
      }
      if ("v1" in opened) {
        return this.#loadV1(opened.v1, opened.keyIndex, value, c);
      }
      const { data, ...meta } = opened.record;
      let json: string;
      try {
        json = JSON.stringify(data);
      } catch {
        this.#report({ type: "invalid-cookie", reason: "bad-record" }, c);
        return undefined;
      }
      seen = { meta, json, keyIndex: opened.keyIndex };
      if (!custom) this.#verified.set(value, seen);
    }
    if (seen.keyIndex > 0) {
      this.#report({ type: "rotated-secret", keyIndex: seen.keyIndex }, c);
    }
    seen.parsed ??= JSON.parse(seen.json);
    return {
      meta: seen.meta,
      json: seen.json,
      parsed: seen.parsed,
      handle: value,
    };
  }

  // A session of hono-session 1.x: served as 1.x would, with its deadline;
  // its first save seals it our way (see save()).
  #loadV1(
    session: V1Session,
    keyIndex: number,
    value: string,
    c: Context,
  ): Loaded<string> {
    this.#report({ type: "legacy-session", from: V1, step: "loaded" }, c);
    if (keyIndex > 0) this.#report({ type: "rotated-secret", keyIndex }, c);
    return {
      meta: v1Meta(session, this.#options, Date.now()),
      json: session.json,
      parsed: session.parsed,
      handle: value,
      migrated: V1,
    };
  }

  async save(
    out: Outgoing,
    from: Loaded<string> | undefined,
    c: Context,
  ): Promise<Saved> {
    if (!this.#looked) this.#look(c);
    const sealed = await sealRecord(
      out.meta,
      out.json,
      this.#keys,
      this.#options.encoder,
      this.#compression,
    );
    if (this.#random) this.#sealed = true;
    // The browser sends this value next: it is known to be genuine.
    if (!this.#options.encoder) {
      this.#verified.set(sealed, {
        meta: out.meta,
        json: out.json,
        keyIndex: 0,
      });
    }
    if (from?.migrated !== undefined) {
      this.#report(
        { type: "legacy-session", from: from.migrated, step: "moved" },
        c,
      );
    }
    return {
      value: sealed,
      expires: out.meta.expires,
      persistent: out.meta.persistent,
    };
  }

  end(loaded: Loaded<string>): Promise<void> {
    this.#verified.delete(loaded.handle);
    return Promise.resolve();
  }
}

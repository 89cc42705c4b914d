// Cookie-mode keys. Each configured secret is turned into a password bound
// to one purpose (this middleware's cookie name), so a seal made with the
// same secret for anything else, another cookie or another app using iron,
// does not open. Each password gets a short id that the seal carries, so
// opening a seal never tries more than one key.

import { IronKey } from "./iron.ts";
import { randomToken } from "../_lib/random.ts";
import { hex, toBase64url } from "../_lib/encoding.ts";

const encoder = new TextEncoder();

/**
 * One key: the secret as configured (what a custom encoder gets), the iron
 * password derived from it for this purpose, and the id seals carry.
 */
export interface Key {
  /** 12 hex characters naming the key inside a seal. */
  readonly id: string;
  /** The secret as the app configured it. */
  readonly secret: string;
  /** The password handed to iron: 43 base64url characters. */
  readonly password: string;
  /** 0 for the newest secret, 1 for the one before, and so on. */
  readonly index: number;
  /** Iron sealing with this key, its derived keys kept between requests. */
  readonly iron: IronKey;
}

async function derive(
  secret: string,
  purpose: string,
  index: number,
): Promise<Key> {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const password = toBase64url(
    new Uint8Array(
      await crypto.subtle.sign(
        "HMAC",
        key,
        encoder.encode(`@x/hono-session v1\0${purpose}`),
      ),
    ),
  );
  const id = hex(
    new Uint8Array(
      await crypto.subtle.digest("SHA-256", encoder.encode(`id\0${password}`)),
    ),
  ).slice(0, 12);
  return { id, secret, password, index, iron: new IronKey(id, password) };
}

/** The keys of one middleware, newest first, derived once on first use. */
export class Keyring {
  readonly #secrets: readonly string[] | undefined;
  readonly #purpose: string;
  #keys: Promise<{ list: Key[]; byId: Map<string, Key> }> | undefined;

  /**
   * @param secrets The secrets, newest first; undefined for one random
   *   secret, drawn on first use.
   */
  constructor(secrets: readonly string[] | undefined, purpose: string) {
    this.#secrets = secrets;
    this.#purpose = purpose;
  }

  #load(): Promise<{ list: Key[]; byId: Map<string, Key> }> {
    return this.#keys ??= Promise.all(
      (this.#secrets ?? [randomToken()]).map((secret, i) =>
        derive(secret, this.#purpose, i)
      ),
    ).then((list) => ({ list, byId: new Map(list.map((k) => [k.id, k])) }));
  }

  /** Every key, newest first. */
  async all(): Promise<Key[]> {
    return (await this.#load()).list;
  }

  /** The key seals are made with. */
  async newest(): Promise<Key> {
    return (await this.#load()).list[0]!;
  }

  /** The key with this id, if it is one of ours (a Map: no prototype lookups). */
  async byId(id: string): Promise<Key | undefined> {
    return (await this.#load()).byId.get(id);
  }
}

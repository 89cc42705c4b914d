// The cookies of hono-session 1.x, for `migrateFrom: "hono-session@1"`
// in cookie mode: iron seals (iron-webcrypto's defaults, the format our own
// seals use) made with the raw secret and no key id, `Fe26.2**...`. Ours
// always carry a key id, so the two never mix. Opening one tries each
// configured secret in turn; genuine ones are remembered by exact value, as
// our own are, so a 1.x cookie read again costs a lookup.
import { Lru } from "../_lib/lru.ts";
import { IronKey } from "./iron.ts";
import { readV1Cookie, type V1Session } from "../_migrate/hono_session_v1.ts";

/** What a 1.x cookie holds in our terms: the session and which secret opened it. */
export interface OpenedV1 {
  session: V1Session;
  /** 0 for the newest secret. */
  keyIndex: number;
}

/** 1.x cookies remembered per cache generation. */
const CACHE_LIMIT = 10_000;
/** About how many bytes the remembered 1.x cookies may hold. */
const CACHE_BYTES = 4 * 2 ** 20;

const decoder = new TextDecoder();

/** Opens the cookies 1.x sealed with any of the configured secrets. */
export class V1Seals {
  readonly #keys: IronKey[];
  readonly #opened: Lru<string, OpenedV1> = new Lru(
    CACHE_LIMIT,
    CACHE_BYTES,
    (value, opened) => 256 + value.length + 4 * opened.session.json.length,
  );

  /** @param secrets The secrets as configured, newest first. */
  constructor(secrets: readonly string[]) {
    this.#keys = secrets.map((secret) => new IronKey("", secret));
  }

  /**
   * Opens a 1.x seal (the caller has seen `Fe26.2**`): the session, or why
   * it is none. Nothing is decrypted before a secret's integrity check
   * passes.
   */
  async open(
    value: string,
  ): Promise<OpenedV1 | { refused: "bad-seal" | "bad-record" }> {
    const known = this.#opened.get(value);
    if (known !== undefined) return known;
    for (let keyIndex = 0; keyIndex < this.#keys.length; keyIndex++) {
      const bytes = await this.#keys[keyIndex]!.openBytes(value);
      if (bytes === undefined) continue;
      let flat: unknown;
      try {
        flat = JSON.parse(decoder.decode(bytes));
      } catch {
        return { refused: "bad-record" };
      }
      const session = readV1Cookie(flat);
      if (session === undefined) return { refused: "bad-record" };
      const opened = { session, keyIndex };
      this.#opened.set(value, opened);
      return opened;
    }
    return { refused: "bad-seal" };
  }
}

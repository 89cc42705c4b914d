// Cookie mode: sealing a record into the cookie's value and opening it
// again, with iron by default or with the app's own encoder.
import type { SessionRecord } from "../session_store.ts";
import type { Encoder } from "../encoder.ts";
import { isRecord } from "../_core/record.ts";
import type { SessionMeta } from "../_core/lifetime.ts";
import type { Keyring } from "./keyring.ts";
import type { IronKey } from "./iron.ts";
import {
  compress,
  type CompressionFormat,
  expand,
  EXPANDED_LIMIT,
  isCompressed,
} from "./compression.ts";
import { readV1Cookie, type V1Session } from "../_migrate/hono_session_v1.ts";
import type { V1Seals } from "./v1_seals.ts";

/**
 * The outcome of opening a cookie: a record and the key that opened it, a
 * hono-session 1.x session (with `migrateFrom`), or why not.
 */
export type Opened =
  | { record: SessionRecord; keyIndex: number }
  | { v1: V1Session; keyIndex: number }
  | {
    refused: "malformed" | "bad-seal" | "bad-record" | "oversized";
    /** An iron seal in our format, under a key id that is none of ours. */
    otherKey?: true;
  };

// The key id our seals carry (see keyring.ts).
const KEY_ID = /^[0-9a-f]{12}$/;

/** When a seal is made from the session compressed. */
export interface Compression {
  format: CompressionFormat;
  /**
   * Compression is tried only for a session whose plain seal would be
   * longer than this (what one cookie holds): smaller ones gain little and
   * would pay for it on every write.
   */
  above: number;
}

const IRON_PREFIX = "Fe26.2*";
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

/** Bytes of an AES-CBC encryption of `bytes` bytes: padded to whole blocks. */
function padded(bytes: number): number {
  return (Math.floor(bytes / 16) + 1) * 16;
}

/** The JSON of a record, from its bookkeeping and its values' JSON. */
function recordJson(meta: SessionMeta, dataJson: string): string {
  const tail = JSON.stringify(meta);
  return tail === "{}"
    ? `{"data":${dataJson}}`
    : `{"data":${dataJson},${tail.slice(1)}`;
}

// What a seal holds when compression is on: the record's JSON, compressed
// if the plain seal would not fit one cookie and compressing shortens it
// (AES-CBC pads to whole blocks, so only a shorter padded length counts).
async function payloadOf(
  json: string,
  iron: IronKey,
  compression: Compression,
): Promise<Uint8Array<ArrayBuffer>> {
  const plain = textEncoder.encode(json);
  if (iron.sealedLength(plain.length) <= compression.above) return plain;
  if (plain.length > EXPANDED_LIMIT) {
    throw new RangeError(
      `the session is ${plain.length} bytes of JSON, over the ${EXPANDED_LIMIT} bytes a compressed session may expand to; store less in the session, or use a store so the cookie holds only an id`,
    );
  }
  const compressed = await compress(plain, compression.format);
  return compressed !== undefined &&
      padded(compressed.length) < padded(plain.length)
    ? compressed
    : plain;
}

/**
 * Seals a session (values as JSON, and bookkeeping) with the newest key;
 * with `compression`, compressed when that makes the seal shorter.
 *
 * @throws {RangeError} When a session to be compressed has more than
 *   {@linkcode EXPANDED_LIMIT} bytes: reading would refuse it.
 */
export async function sealRecord(
  meta: SessionMeta,
  dataJson: string,
  keys: Keyring,
  encoder: Encoder | undefined,
  compression?: Compression,
): Promise<string> {
  const key = await keys.newest();
  let sealed: unknown;
  if (encoder) {
    sealed = await encoder.encode(
      { data: JSON.parse(dataJson), ...meta },
      key.secret,
    );
  } else {
    const json = recordJson(meta, dataJson);
    sealed = await key.iron.seal(
      compression ? await payloadOf(json, key.iron, compression) : json,
    );
  }
  if (typeof sealed !== "string" || sealed.length === 0) {
    throw new TypeError(
      "session encoder.encode() must return a non-empty string",
    );
  }
  return sealed;
}

/**
 * Opens a cookie value made by {@linkcode sealRecord}, with any listed key.
 * With `v1` (`migrateFrom: "hono-session@1"`) also a cookie of
 * hono-session 1.x: with iron, a seal without a key id; with a custom
 * encoder, a decoded object with 1.x's `_expires` (never among our
 * record's names).
 */
export async function openSeal(
  value: string,
  keys: Keyring,
  encoder: Encoder | undefined,
  v1?: V1Seals,
): Promise<Opened> {
  if (encoder) return await openCustom(value, keys, encoder, v1 !== undefined);
  // An iron seal: Fe26.2*<key id>*<salt>*<iv>*<data>*<expiry>*<salt>*<mac>.
  if (!value.startsWith(IRON_PREFIX)) return { refused: "malformed" };
  const end = value.indexOf("*", IRON_PREFIX.length);
  if (end === -1) return { refused: "malformed" };
  if (v1 && end === IRON_PREFIX.length) {
    const opened = await v1.open(value);
    return "refused" in opened
      ? opened
      : { v1: opened.session, keyIndex: opened.keyIndex };
  }
  // Only our own key ids are looked up, and in a Map: whatever id the
  // client wrote can reach no prototype.
  const id = value.slice(IRON_PREFIX.length, end);
  const key = await keys.byId(id);
  if (!key) {
    return KEY_ID.test(id)
      ? { refused: "bad-seal", otherKey: true }
      : { refused: "bad-seal" };
  }
  let payload = await key.iron.openBytes(value);
  if (payload === undefined) return { refused: "bad-seal" };
  // Genuine, so made by us (or by someone with the secret): a compressed
  // payload is still expanded only up to the limit.
  if (isCompressed(payload)) {
    const expanded = await expand(payload);
    if (expanded === "too-large") return { refused: "oversized" };
    if (expanded === "broken") return { refused: "bad-record" };
    payload = expanded;
  }
  let record: unknown;
  try {
    record = JSON.parse(textDecoder.decode(payload));
  } catch {
    return { refused: "bad-record" };
  }
  return isRecord(record)
    ? { record, keyIndex: key.index }
    : { refused: "bad-record" };
}

async function openCustom(
  value: string,
  keys: Keyring,
  encoder: Encoder,
  v1: boolean,
): Promise<Opened> {
  let opened: unknown = undefined;
  for (const key of await keys.all()) {
    try {
      opened = await encoder.decode(value, key.secret);
    } catch {
      continue;
    }
    if (opened === null || opened === undefined) continue;
    if (v1 && Object.hasOwn(opened, "_expires")) {
      const session = readV1Cookie(opened);
      return session
        ? { v1: session, keyIndex: key.index }
        : { refused: "bad-record" };
    }
    if (isRecord(opened)) return { record: opened, keyIndex: key.index };
  }
  return opened === null || opened === undefined
    ? { refused: "bad-seal" }
    : { refused: "bad-record" };
}

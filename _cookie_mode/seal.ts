// Cookie mode: sealing a record into the cookie's value and opening it
// again, with iron by default or with the app's own encoder.
import type { SessionRecord } from "../session_store.ts";
import type { Encoder } from "../encoder.ts";
import { isRecord } from "../_core/record.ts";
import type { SessionMeta } from "../_core/lifetime.ts";
import type { Keyring } from "./keyring.ts";

/** The outcome of opening a cookie: a record and the key that opened it, or why not. */
export type Opened =
  | { record: SessionRecord; keyIndex: number }
  | { refused: "malformed" | "bad-seal" | "bad-record" };

const IRON_PREFIX = "Fe26.2*";

/** The JSON of a record, from its bookkeeping and its values' JSON. */
function recordJson(meta: SessionMeta, dataJson: string): string {
  const tail = JSON.stringify(meta);
  return tail === "{}"
    ? `{"data":${dataJson}}`
    : `{"data":${dataJson},${tail.slice(1)}`;
}

/** Seals a session (values as JSON, and bookkeeping) with the newest key. */
export async function sealRecord(
  meta: SessionMeta,
  dataJson: string,
  keys: Keyring,
  encoder: Encoder | undefined,
): Promise<string> {
  const key = await keys.newest();
  const sealed = encoder
    ? await encoder.encode(
      { data: JSON.parse(dataJson), ...meta },
      key.secret,
    )
    : await key.iron.seal(recordJson(meta, dataJson));
  if (typeof sealed !== "string" || sealed.length === 0) {
    throw new TypeError(
      "session encoder.encode() must return a non-empty string",
    );
  }
  return sealed;
}

/** Opens a cookie value made by {@linkcode sealRecord}, with any listed key. */
export async function openSeal(
  value: string,
  keys: Keyring,
  encoder: Encoder | undefined,
): Promise<Opened> {
  if (encoder) return await openCustom(value, keys, encoder);
  // An iron seal: Fe26.2*<key id>*<salt>*<iv>*<data>*<expiry>*<salt>*<mac>.
  if (!value.startsWith(IRON_PREFIX)) return { refused: "malformed" };
  const end = value.indexOf("*", IRON_PREFIX.length);
  if (end === -1) return { refused: "malformed" };
  // Only our own key ids are looked up, and in a Map: whatever id the
  // client wrote can reach no prototype.
  const key = await keys.byId(value.slice(IRON_PREFIX.length, end));
  if (!key) return { refused: "bad-seal" };
  const json = await key.iron.open(value);
  if (json === undefined) return { refused: "bad-seal" };
  let record: unknown;
  try {
    record = JSON.parse(json);
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
): Promise<Opened> {
  let opened: unknown = undefined;
  for (const key of await keys.all()) {
    try {
      opened = await encoder.decode(value, key.secret);
    } catch {
      continue;
    }
    if (opened === null || opened === undefined) continue;
    if (isRecord(opened)) return { record: opened, keyIndex: key.index };
  }
  return opened === null || opened === undefined
    ? { refused: "bad-seal" }
    : { refused: "bad-record" };
}

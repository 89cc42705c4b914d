// The default cookie-mode encoder: iron seals from iron-webcrypto.
import { defaults, seal, unseal } from "iron-webcrypto";
import type { Encoder } from "./encoder.ts";
import type { SessionRecord } from "./session_store.ts";

/** Seals with iron's defaults: AES-256-CBC, HMAC-SHA-256, a fresh salt and IV each time. */
export const ironEncoder: Encoder = {
  encode(record: SessionRecord, secret: string): Promise<string> {
    return seal(record, secret, defaults);
  },
  async decode(value: string, secret: string): Promise<SessionRecord> {
    return await unseal(value, secret, defaults) as SessionRecord;
  },
};

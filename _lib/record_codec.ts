// How the stores that keep text (Deno KV, Redis, unstorage) write a session
// record and read it back. Reading never trusts what comes back: text that
// is not JSON, or not a record, or a record past its deadline, is no
// session. The middleware checks the record's full shape again.
import type { SessionRecord } from "../session_store.ts";

/** The text a store keeps for `record`. */
export function encodeRecord(record: SessionRecord): string {
  return JSON.stringify(record);
}

/**
 * The record in `value` (the text {@linkcode encodeRecord} made, or the
 * object a backend already parsed it into), or undefined when it is not
 * one or its deadline has passed at `now`.
 */
export function decodeRecord(
  value: unknown,
  now: number = Date.now(),
): SessionRecord | undefined {
  let record = value;
  if (typeof value === "string") {
    try {
      record = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  if (record === null || typeof record !== "object") return undefined;
  const { expires } = record as { expires?: unknown };
  return typeof expires === "number" && expires > now
    ? record as SessionRecord
    : undefined;
}

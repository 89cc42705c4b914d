// The shape of a session record, checked wherever one comes from outside:
// a store's answer, an opened seal, a custom encoder's output.
import type { SessionRecord } from "../session_store.ts";

/** Whether `value` has the shape of a {@linkcode SessionRecord}. */
export function isRecord(value: unknown): value is SessionRecord {
  if (value === null || typeof value !== "object") return false;
  const {
    data,
    expires,
    created,
    limit,
    flash,
    user,
    handle,
    persistent,
    seen,
    binding,
  } = value as Record<string, unknown>;
  return data !== null && typeof data === "object" && !Array.isArray(data) &&
    Number.isFinite(expires) &&
    (created === undefined || Number.isFinite(created)) &&
    (limit === undefined || Number.isFinite(limit)) &&
    (flash === undefined ||
      (Array.isArray(flash) && flash.every((k) => typeof k === "string"))) &&
    (user === undefined || typeof user === "string") &&
    (handle === undefined || typeof handle === "string") &&
    (persistent === undefined || typeof persistent === "boolean") &&
    (seen === undefined || Number.isFinite(seen)) &&
    (binding === undefined ||
      (binding !== null && typeof binding === "object" &&
        !Array.isArray(binding)));
}

// Store mode: when another request saved the same session while this one
// ran, keep both requests' changes if they touched different values.
import type { SessionRecord } from "../session_store.ts";

function same(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Three-way merge of session records: `base` is what this request loaded,
 * `ours` what it wants to save, `theirs` what the store holds now. A value
 * changed on one side only takes that change. A value changed on both
 * sides makes the merge fail (undefined), even when both wrote the same
 * result: two read-modify-writes of a counter both write `n + 1`, and
 * taking that as agreement would lose one of them. The one exception is a
 * flashed value both requests dropped at its end of life: nobody wrote it.
 */
export function mergeRecords(
  base: SessionRecord,
  ours: SessionRecord,
  theirs: SessionRecord,
): SessionRecord | undefined {
  const data: Record<string, unknown> = Object.create(null);
  const keys = new Set([
    ...Object.keys(base.data),
    ...Object.keys(ours.data),
    ...Object.keys(theirs.data),
  ]);
  const baseFlash = new Set(base.flash ?? []);
  for (const key of keys) {
    const b = Object.hasOwn(base.data, key) ? base.data[key] : undefined;
    const o = Object.hasOwn(ours.data, key) ? ours.data[key] : undefined;
    const t = Object.hasOwn(theirs.data, key) ? theirs.data[key] : undefined;
    const oursChanged = !same(o, b);
    const theirsChanged = !same(t, b);
    if (oursChanged && theirsChanged) {
      const bothDroppedFlash = o === undefined && t === undefined &&
        baseFlash.has(key);
      if (!bothDroppedFlash) return undefined;
    }
    const value = oursChanged ? o : t;
    if (value !== undefined) data[key] = value;
  }
  // Flash keys: ours, plus any the other request flashed anew.
  const flash = [
    ...new Set([
      ...(ours.flash ?? []),
      ...(theirs.flash ?? []).filter((key) => !baseFlash.has(key)),
    ]),
  ].filter((key) => Object.hasOwn(data, key));
  const merged: SessionRecord = {
    data: { ...data },
    expires: Math.max(ours.expires, theirs.expires),
    created: ours.created ?? theirs.created,
  };
  const limit = Math.max(
    ours.limit ?? ours.expires,
    theirs.limit ?? theirs.expires,
  );
  if (limit !== merged.expires) merged.limit = limit;
  if (flash.length > 0) merged.flash = flash;
  return merged;
}

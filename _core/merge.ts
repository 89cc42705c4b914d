// Store mode: when another request saved the same session while this one
// ran, keep both requests' changes if they touched different values.
import type { SessionRecord } from "../session_store.ts";

function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  try {
    return JSON.stringify(a) === JSON.stringify(b);
  } catch {
    return false;
  }
}

function valueOf(record: SessionRecord, key: string): unknown {
  return Object.hasOwn(record.data, key) ? record.data[key] : undefined;
}

// Whether `side` changed `key` from `base`: a new value, or a flashed
// value it kept (flashed anew, or reflashed) where the default was to drop
// it at the end of the request.
function changed(
  base: SessionRecord,
  side: SessionRecord,
  sideFlash: ReadonlySet<string>,
  baseFlash: ReadonlySet<string>,
  key: string,
): boolean {
  return !same(valueOf(side, key), valueOf(base, key)) ||
    (baseFlash.has(key) && sideFlash.has(key));
}

// One deadline field: the side that moved it wins; both moved it (each
// request's activity): the later one.
function deadline<T extends number | undefined>(
  base: T,
  ours: T,
  theirs: T,
): T {
  if (ours === base) return theirs;
  if (theirs === base) return ours;
  return Math.max(ours ?? 0, theirs ?? 0) as T;
}

/**
 * Three-way merge of session records: `base` is what this request's
 * record was made from, `ours` what it wants to save, `theirs` what the
 * store holds now. A value changed on one side only takes that change. A
 * value changed on both sides makes the merge fail (undefined), even when
 * both wrote the same result: two read-modify-writes of a counter both
 * write `n + 1`, and taking that as agreement would lose one of them. The
 * one exception is a flashed value both requests dropped at its end of
 * life: nobody wrote it. The deadlines follow the side that moved them.
 *
 * After a merge, the next attempt's base is `theirs`: what the merged
 * record was made from.
 */
export function mergeRecords(
  base: SessionRecord,
  ours: SessionRecord,
  theirs: SessionRecord,
): SessionRecord | undefined {
  const baseFlash = new Set(base.flash ?? []);
  const oursFlash = new Set(ours.flash ?? []);
  const theirsFlash = new Set(theirs.flash ?? []);
  const data: Record<string, unknown> = Object.create(null);
  const flash: string[] = [];
  const keys = new Set([
    ...Object.keys(base.data),
    ...Object.keys(ours.data),
    ...Object.keys(theirs.data),
  ]);
  for (const key of keys) {
    const oursChanged = changed(base, ours, oursFlash, baseFlash, key);
    const theirsChanged = changed(base, theirs, theirsFlash, baseFlash, key);
    const o = valueOf(ours, key);
    const t = valueOf(theirs, key);
    if (oursChanged && theirsChanged) {
      const bothDroppedFlash = o === undefined && t === undefined &&
        baseFlash.has(key);
      if (!bothDroppedFlash) return undefined;
    }
    const [value, flashed] = oursChanged
      ? [o, oursFlash.has(key)]
      : [t, theirsFlash.has(key)];
    if (value === undefined) continue;
    data[key] = value;
    if (flashed) flash.push(key);
  }
  const merged: SessionRecord = {
    data: { ...data },
    expires: deadline(base.expires, ours.expires, theirs.expires),
  };
  const created = deadline(base.created, ours.created, theirs.created);
  if (created !== undefined) merged.created = created;
  const limit = deadline(
    base.limit ?? base.expires,
    ours.limit ?? ours.expires,
    theirs.limit ?? theirs.expires,
  );
  if (limit !== undefined && limit !== merged.expires) merged.limit = limit;
  if (flash.length > 0) merged.flash = flash;
  return merged;
}

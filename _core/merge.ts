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

// Whether `side` changed `key` from `base`: a new value, or a flash on it.
// A key in the side's flash list was flashed (or reflashed) by that request:
// a value the base flashed is dropped at the end of a request unless kept,
// and a value the base kept for good becomes a flash only when flashed.
function changed(
  base: SessionRecord,
  side: SessionRecord,
  sideFlash: ReadonlySet<string>,
  key: string,
): boolean {
  return sideFlash.has(key) || !same(valueOf(side, key), valueOf(base, key));
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

// A choice the session made (its user, its cookie lifetime): the side that
// changed it wins; both changed it: ours, the later request to save.
function choice<T>(base: T, ours: T, theirs: T): T {
  return ours === base ? theirs : ours;
}

/**
 * Three-way merge of session records: `base` is what this request's
 * record was made from, `ours` what it wants to save, `theirs` what the
 * store holds now. A value changed on one side only takes that change. A
 * value changed on both sides makes the merge fail (undefined), even when
 * both wrote the same result: two read-modify-writes of a counter both
 * write `n + 1`, and taking that as agreement would lose one of them. The
 * one exception is a flashed value both requests dropped at its end of
 * life: nobody wrote it. The deadlines, the user tie, the cookie
 * lifetime choice and a device-bound session's bookkeeping follow the side
 * that changed them.
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
    const oursChanged = changed(base, ours, oursFlash, key);
    const theirsChanged = changed(base, theirs, theirsFlash, key);
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
  const limit = deadline(
    base.limit ?? base.expires,
    ours.limit ?? ours.expires,
    theirs.limit ?? theirs.expires,
  );
  // Idle activity never carries a session past its limit: a renew() that
  // shortened the lifetime stays short whatever the other side touched.
  const merged: SessionRecord = {
    data: { ...data },
    expires: Math.min(
      deadline(base.expires, ours.expires, theirs.expires),
      limit,
    ),
  };
  const created = deadline(base.created, ours.created, theirs.created);
  if (created !== undefined) merged.created = created;
  if (limit !== merged.expires) merged.limit = limit;
  if (flash.length > 0) merged.flash = flash;
  // The user and the handle of one sign-in go together.
  const [user, handle] = ours.user === base.user && ours.handle === base.handle
    ? [theirs.user, theirs.handle]
    : [ours.user, ours.handle];
  if (user !== undefined) merged.user = user;
  if (handle !== undefined) merged.handle = handle;
  const persistent = choice(
    base.persistent,
    ours.persistent,
    theirs.persistent,
  );
  if (persistent !== undefined) merged.persistent = persistent;
  const seen = deadline(base.seen, ours.seen, theirs.seen);
  if (seen !== undefined) merged.seen = seen;
  // A device-bound session's bookkeeping: the side that changed it wins
  // (each side holds its own parse of it, so compared by value).
  const binding = same(ours.binding, base.binding)
    ? theirs.binding
    : ours.binding;
  if (binding !== undefined) merged.binding = binding;
  return merged;
}

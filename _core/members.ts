// The names of the session API's own members: they can never hold a value.
import type { SessionMember } from "../session.ts";

// A Record over the public union, so a member added to the type fails type
// checking here until it is listed.
const LIST: Record<SessionMember, true> = {
  renew: true,
  regenerate: true,
  flash: true,
  reflash: true,
  hasChanged: true,
  isNew: true,
};

/** The member names, for lookups. */
export const MEMBERS: ReadonlySet<string> = new Set(Object.keys(LIST));

/** Returns `key` if it may hold a session value, else throws a TypeError. */
export function checkKey(key: string | symbol): string {
  if (typeof key !== "string") {
    throw new TypeError("session keys must be strings, not symbols");
  }
  if (MEMBERS.has(key)) {
    throw new TypeError(
      `"${key}" is a member of the session API and cannot hold a value; pick another key`,
    );
  }
  return key;
}

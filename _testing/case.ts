// What one conformance case is: its title, which stores it applies to,
// and how it runs.
import type { SessionStore } from "../mod.ts";

/**
 * Which stores a case applies to: `basic` to every store; `expiry` to a
 * store whose own `get` drops expired entries; `conflicts` to a store whose
 * `set` refuses stale writes; `replace` to one that also has `replace`;
 * `users` to one that lists a user's sessions (`listUser`), and
 * `users-race` to one that also refuses stale writes; `device-bound` to one
 * with `replace`, which carries device-bound sessions.
 */
export type Group =
  | "basic"
  | "expiry"
  | "conflicts"
  | "replace"
  | "users"
  | "users-race"
  | "device-bound";

/** One conformance case. */
export interface Case {
  title: string;
  group: Group;
  run(store: SessionStore): Promise<void>;
}

// Stores that break the store contract on purpose, each claiming what a
// correct store of its kind would: the conformance kit must fail them, and
// only in the cases that check what each breaks. A correct store (a
// MemoryStore) runs alongside and must pass. testing_kit_test.ts runs this
// file with `deno test` in a subprocess and reads the results.
import type { Context } from "hono";
import {
  SessionConflictError,
  type SessionRecord,
  type SessionStore,
  type UserSessionEntry,
} from "../../mod.ts";
import { MemoryStore } from "../../stores/memory.ts";
import { storeConformance } from "../../testing.ts";

/** A store of JSON text in a Map, with no checks at all. */
class TextStore implements SessionStore {
  readonly entries: Map<string, string> = new Map();
  get(id: string): SessionRecord | undefined {
    const json = this.entries.get(this.key(id));
    return json === undefined ? undefined : JSON.parse(json);
  }
  set(id: string, record: SessionRecord): void {
    this.entries.set(this.key(id), JSON.stringify(this.keep(record)));
  }
  delete(id: string): void {
    this.entries.delete(this.key(id));
  }
  key(id: string): string {
    return id;
  }
  keep(record: SessionRecord): SessionRecord {
    return record;
  }
}

// The names the kit's tests start with; testing_kit_test.ts knows them too.
const BROKEN = {
  expired: "returns expired entries",
  unchecked: "ignores conflicts",
  plainError: "throws a plain Error on conflict",
  takenId: "replace overwrites a taken id",
  lossy: "drops created, limit and flash",
  caseFolding: "folds the case of ids",
  valuesOnly: "versions only the values",
  good: "MemoryStore (correct)",
  everyonesSessions: "lists every session as the user's",
  expiredListed: "lists expired sessions of a user",
  deleteNeedsContext: "cannot delete outside a request",
  twoStepListing: "lists ids, then records, a turn apart",
} as const;

// Claims its own expiry check, but hands back whatever it holds.
storeConformance(
  BROKEN.expired,
  () => ({ store: new TextStore() }),
  { checksConflicts: false, checksExpiry: true },
);

// Claims checked writes, but `set` writes whatever, and `replace` is a set
// and a delete.
storeConformance(BROKEN.unchecked, () => {
  const store = new TextStore();
  return {
    store: Object.assign(store, {
      replace(oldId: string, newId: string, record: SessionRecord): void {
        store.set(newId, record);
        store.delete(oldId);
      },
    }),
  };
}, { checksConflicts: true });

// A correct store whose conflicts come out as a plain Error: the
// middleware cannot tell them from a failure of the store.
storeConformance(BROKEN.plainError, () => {
  const inner = new MemoryStore({ sweepInterval: 0 });
  const plain = (action: () => void): void => {
    try {
      action();
    } catch (error) {
      if (error instanceof SessionConflictError) throw new Error("conflict");
      throw error;
    }
  };
  const store: SessionStore = {
    get: (id, c) => inner.get(id, c),
    set: (id, record, c) => plain(() => inner.set(id, record, c)),
    delete: (id) => inner.delete(id),
    replace: (oldId, newId, record, c) =>
      plain(() => inner.replace(oldId, newId, record, c)),
  };
  return { store };
}, { checksConflicts: true, checksExpiry: true });

// A correct store except that `replace` clears the new id first.
storeConformance(BROKEN.takenId, () => {
  const inner = new MemoryStore({ sweepInterval: 0 });
  const store: SessionStore = {
    get: (id, c) => inner.get(id, c),
    set: (id, record, c) => inner.set(id, record, c),
    delete: (id) => inner.delete(id),
    replace(oldId: string, newId: string, record, c: Context) {
      inner.delete(newId);
      inner.replace(oldId, newId, record, c);
    },
  };
  return { store };
}, { checksConflicts: true, checksExpiry: true });

// Keeps only `data` and `expires` of each record.
storeConformance(BROKEN.lossy, () => {
  const store = new TextStore();
  store.keep = ({ data, expires }) => ({ data, expires });
  return { store };
}, { checksConflicts: false });

// Keeps ids case-insensitively, like a SQL column with a _ci collation.
storeConformance(BROKEN.caseFolding, () => {
  const store = new TextStore();
  store.key = (id) => id.toLowerCase();
  return { store };
}, { checksConflicts: false });

storeConformance(BROKEN.good, () => {
  const store = new MemoryStore();
  return { store, close: () => store.close() };
}, { checksConflicts: true, checksExpiry: true });

// Checks writes, but versions only the values: a change of the deadline
// alone (a renew) goes unnoticed, so a slow write can undo it.
class ValuesVersionedStore implements SessionStore {
  readonly #entries: Map<string, string> = new Map();
  readonly #seen: WeakMap<object, Map<string, string | null>> = new WeakMap();
  #version(id: string): string | null {
    const json = this.#entries.get(id);
    return json === undefined ? null : JSON.stringify(JSON.parse(json).data);
  }
  #remember(c: object, id: string): void {
    let seen = this.#seen.get(c);
    if (!seen) this.#seen.set(c, seen = new Map());
    seen.set(id, this.#version(id));
  }
  #check(c: object, id: string): void {
    const seen = this.#seen.get(c)?.get(id);
    if (seen !== undefined && seen !== this.#version(id)) {
      throw new SessionConflictError();
    }
  }
  get(id: string, c: Context): SessionRecord | undefined {
    this.#remember(c, id);
    const json = this.#entries.get(id);
    const record = json === undefined ? undefined : JSON.parse(json);
    return record && record.expires > Date.now() ? record : undefined;
  }
  set(id: string, record: SessionRecord, c: Context): void {
    this.#check(c, id);
    this.#entries.set(id, JSON.stringify(record));
    this.#remember(c, id);
  }
  delete(id: string): void {
    this.#entries.delete(id);
  }
  replace(
    oldId: string,
    newId: string,
    record: SessionRecord,
    c: Context,
  ): void {
    this.#check(c, oldId);
    if (!this.#entries.has(oldId) || this.#entries.has(newId)) {
      throw new SessionConflictError();
    }
    this.#entries.set(newId, JSON.stringify(record));
    this.#entries.delete(oldId);
  }
}

storeConformance(
  BROKEN.valuesOnly,
  () => ({ store: new ValuesVersionedStore() }),
  { checksConflicts: true, checksExpiry: true },
);

// A correct MemoryStore but for what `change` replaces.
function memoryWith(
  change: (inner: MemoryStore) => Partial<SessionStore>,
): SessionStore {
  const inner = new MemoryStore({ sweepInterval: 0 });
  return {
    get: (id, c) => inner.get(id, c),
    set: (id, record, c) => inner.set(id, record, c),
    delete: (id) => inner.delete(id),
    replace: (oldId, newId, record, c) =>
      inner.replace(oldId, newId, record, c),
    listUser: (user) => inner.listUser(user),
    ...change(inner),
  };
}

// Lists every live session it saved with set, whoever's (and so misses
// those replace moved).
storeConformance(BROKEN.everyonesSessions, () => {
  const ids = new Set<string>();
  const store = memoryWith((inner) => ({
    set(id, record, c) {
      ids.add(id);
      inner.set(id, record, c);
    },
    listUser() {
      const all: UserSessionEntry[] = [];
      for (const id of ids) {
        const record = inner.get(id);
        if (record) all.push({ id, record });
      }
      return all;
    },
  }));
  return { store };
}, { checksConflicts: true, checksExpiry: true, listsUsers: true });

// Lists a user's sessions right, plus those past their deadline.
storeConformance(BROKEN.expiredListed, () => {
  const every: UserSessionEntry[] = [];
  const store = memoryWith((inner) => ({
    set(id, record, c) {
      inner.set(id, record, c);
      every.push({ id, record });
    },
    listUser(user) {
      const now = Date.now();
      return [
        ...inner.listUser(user),
        ...every.filter(({ record }) =>
          (record as SessionRecord).user === user &&
          (record as SessionRecord).expires <= now
        ),
      ];
    },
  }));
  return { store };
}, { checksConflicts: true, checksExpiry: true, listsUsers: true });

// Needs the request's context to delete: revoking from outside fails.
storeConformance(BROKEN.deleteNeedsContext, () => {
  const store = memoryWith((inner) => ({
    delete(id: string, c?: Context) {
      if (c === undefined) throw new TypeError("no context");
      inner.delete(id);
    },
  }));
  return { store };
}, { checksConflicts: true, checksExpiry: true, listsUsers: true });

// Lists in two steps, the ids and then their records, a turn of the event
// loop apart (as a store reading an index, then the sessions): a session
// that regenerate() moves in between is in neither read.
storeConformance(BROKEN.twoStepListing, () => {
  const store = memoryWith((inner) => ({
    async listUser(user) {
      const ids = inner.listUser(user).map(({ id }) => id);
      await new Promise((resolve) => setTimeout(resolve, 0));
      const found: UserSessionEntry[] = [];
      for (const id of ids) {
        const record = inner.get(id);
        if (record) found.push({ id, record });
      }
      return found;
    },
  }));
  return { store };
}, { checksConflicts: true, checksExpiry: true, listsUsers: true });

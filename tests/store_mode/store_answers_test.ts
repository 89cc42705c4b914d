// Answers the store contract allows but the built-in stores never give,
// checked through what the app sees (the response and its onEvent
// events): `null` for a miss, a record past its deadline (from `get`, and
// from the reload after a conflict), nothing at all after a conflict.
import assert from "node:assert/strict";
import { Hono } from "hono";
import {
  session,
  SessionConflictError,
  type SessionEvent,
  type SessionRecord,
  type SessionStore,
} from "../../mod.ts";
import { isLifecycle, Jar } from "../_helpers.ts";

/**
 * A store over a Map whose answers a test can script: `answer` replaces
 * what `get` returns (once per call, while set), `conflicts` makes that
 * many `set` calls throw a SessionConflictError. `async` answers through
 * promises.
 */
class ScriptedStore implements SessionStore {
  readonly entries: Map<string, SessionRecord> = new Map();
  readonly deleted: string[] = [];
  answer: ((id: string) => unknown) | undefined;
  conflicts = 0;
  constructor(readonly async: boolean) {}
  #reply<T>(value: T): T | Promise<T> {
    return this.async ? Promise.resolve(value) : value;
  }
  get(id: string): ReturnType<SessionStore["get"]> {
    const value = this.answer ? this.answer(id) : this.entries.get(id);
    return this.#reply(value as SessionRecord | null | undefined);
  }
  set(id: string, record: SessionRecord): unknown {
    if (this.conflicts > 0) {
      this.conflicts--;
      throw new SessionConflictError();
    }
    this.entries.set(id, structuredClone(record));
    return this.#reply(undefined);
  }
  delete(id: string): unknown {
    this.deleted.push(id);
    this.entries.delete(id);
    return this.#reply(undefined);
  }
}

function app(store: SessionStore, events: SessionEvent[]) {
  return new Hono()
    .use(
      session<{ n?: number }>({
        store: store as SessionStore,
        onEvent: (event) => void (!isLifecycle(event) && events.push(event)),
      }),
    )
    .get("/n", (c) => c.text(String(c.session.n ?? "-")))
    .post("/n", (c) => {
      c.session.n = (c.session.n ?? 0) + 1;
      return c.text(String(c.session.n));
    });
}

for (const async of [false, true]) {
  const kind = async ? "async" : "sync";

  Deno.test(`store answers (${kind}): null for a miss is an unknown id, nothing else`, async () => {
    const store = new ScriptedStore(async);
    const events: SessionEvent[] = [];
    const jar = new Jar(app(store, events));
    await jar.fetch("/n", { method: "POST" });
    const first = jar.get("sid")!;
    store.answer = () => null;
    assert.deepEqual(await jar.text("/n"), [200, "-"]);
    assert.deepEqual(events, [{ type: "unknown-id" }]);
    // A write starts a new session under a new id.
    store.answer = undefined;
    store.entries.clear();
    assert.deepEqual(await jar.text("/n", { method: "POST" }), [200, "1"]);
    assert.notEqual(jar.get("sid"), first);
  });

  Deno.test(`store answers (${kind}): a record past its deadline is refused as expired and deleted from the store`, async () => {
    const store = new ScriptedStore(async);
    const events: SessionEvent[] = [];
    const jar = new Jar(app(store, events));
    await jar.fetch("/n", { method: "POST" });
    const [key] = [...store.entries.keys()];
    // The store keeps the record past its deadline (it never checks one).
    const record = store.entries.get(key!)!;
    store.entries.set(key!, { ...record, expires: Date.now() - 1 });
    assert.deepEqual(await jar.text("/n"), [200, "-"]);
    assert.deepEqual(events, [{ type: "expired", reason: "lifetime" }]);
    assert.deepEqual(store.deleted, [key]);
  });

  for (
    const [what, after] of [
      ["a record past its deadline", (r: SessionRecord) => ({
        ...r,
        expires: Date.now() - 1,
      })],
      ["null", () => null],
      ["nothing", () => undefined],
    ] as const
  ) {
    Deno.test(`store answers (${kind}): after a conflict, a reload that answers ${what} is a session ended meanwhile: 409, nothing saved`, async () => {
      const store = new ScriptedStore(async);
      const events: SessionEvent[] = [];
      const a = app(store, events);
      a.onError((err, c) =>
        c.text(err.message, err instanceof SessionConflictError ? 409 : 500)
      );
      const jar = new Jar(a);
      await jar.fetch("/n", { method: "POST" });
      const [key] = [...store.entries.keys()];
      const saved = store.entries.get(key!)!;
      // This request loads the session as saved; its write meets a
      // conflict, and the reload answers as scripted.
      let loads = 0;
      store.answer = () => loads++ === 0 ? saved : after(saved);
      store.conflicts = 1;
      const res = await jar.fetch("/n", { method: "POST" });
      assert.equal(res.status, 409, await res.text());
      assert.equal(jar.last.length, 0, "no Set-Cookie");
      assert.deepEqual(events, [{ type: "conflict", outcome: "rejected" }]);
      assert.deepEqual(store.entries.get(key!), saved, "nothing written");
    });
  }

  Deno.test(`store answers (${kind}): after a conflict, a live record another request changed is merged`, async () => {
    const store = new ScriptedStore(async);
    const events: SessionEvent[] = [];
    const a = new Hono()
      .use(
        session<{ n?: number; theme?: string }>({
          store,
          onEvent: (event) => void (!isLifecycle(event) && events.push(event)),
        }),
      )
      .post("/n", (c) => {
        c.session.n = 1;
        return c.text("ok");
      })
      .get("/all", (c) => c.json({ ...c.session }));
    const jar = new Jar(a);
    await jar.fetch("/n", { method: "POST" });
    const [key] = [...store.entries.keys()];
    const saved = store.entries.get(key!)!;
    // Loaded without values; meanwhile another request set only `theme`.
    const theirs = { ...saved, data: { theme: "dark" } };
    let loads = 0;
    store.answer = () => loads++ === 0 ? { ...saved, data: {} } : theirs;
    store.conflicts = 1;
    assert.equal((await jar.fetch("/n", { method: "POST" })).status, 200);
    assert.deepEqual(events, [{ type: "conflict", outcome: "merged" }]);
    store.answer = undefined;
    assert.deepEqual(await (await jar.fetch("/all")).json(), {
      n: 1,
      theme: "dark",
    });
  });
}

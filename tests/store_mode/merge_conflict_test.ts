// Real concurrent requests against stores that detect conflicts: a slow
// request never undoes a sign-out or a regenerate, and two requests that
// change different values both keep their change.
import assert from "node:assert/strict";
import { Hono } from "hono";
import {
  session,
  SessionConflictError,
  type SessionEvent,
  type SessionRecord,
  type SessionStore,
} from "../../mod.ts";
import { MemoryStore } from "../../stores/memory.ts";
import { DenoKvStore } from "../../stores/deno_kv.ts";
import { Jar, storeKey } from "../_helpers.ts";

interface Gate {
  reached: Promise<void>;
  open(): void;
}

function harness(store: SessionStore) {
  let arrive = () => {};
  let wait = Promise.resolve();
  const events: SessionEvent[] = [];
  const app = new Hono()
    .use(
      session<Record<string, string>>({
        store,
        onEvent: (e) => void events.push(e),
      }),
    )
    .post("/set", (c) => {
      for (const [k, v] of Object.entries(c.req.query())) c.session[k] = v;
      return c.text("ok");
    })
    .post("/slow", async (c) => {
      const before = JSON.stringify(c.session); // loaded before the others run
      arrive();
      await wait;
      for (const [k, v] of Object.entries(c.req.query())) c.session[k] = v;
      return c.text(before);
    })
    .post("/logout", (c) => {
      c.session = null;
      return c.text("bye");
    })
    .post("/regen", (c) => {
      c.session.regenerate();
      return c.text("ok");
    })
    .get("/all", (c) => c.json({ ...c.session }));
  app.onError((err, c) =>
    err instanceof SessionConflictError
      ? c.text(`conflict: ${err.message}`, 409)
      : c.text(`${err.name}: ${err.message}`, 500)
  );
  return {
    app,
    events,
    /** Starts a slow request and resolves once it has loaded the session. */
    async slow(
      jar: Jar,
      query: string,
    ): Promise<{ done: Promise<Response>; gate: Gate }> {
      let open!: () => void;
      wait = new Promise<void>((r) => open = r);
      const reached = new Promise<void>((r) => arrive = r);
      const done = jar.fetch(`/slow?${query}`, { method: "POST" });
      await reached;
      return { done, gate: { reached, open } };
    },
  };
}

const stores: [
  string,
  () => Promise<{ store: SessionStore; close(): void }>,
][] = [
  ["MemoryStore", () => {
    const store = new MemoryStore({ sweepInterval: 0 });
    return Promise.resolve({ store, close: () => store.close() });
  }],
  ["DenoKvStore", async () => {
    const kv = await Deno.openKv(":memory:");
    return { store: new DenoKvStore(kv), close: () => kv.close() };
  }],
];

for (const [name, make] of stores) {
  Deno.test(`${name}: a slow request cannot bring back a session signed out meanwhile`, async () => {
    const { store, close } = await make();
    try {
      const h = harness(store);
      const jar = new Jar(h.app);
      await jar.fetch("/set?userId=ada", { method: "POST" });
      const key = await storeKey(jar.get("sid")!);
      const other = new Jar(h.app);
      other.cookies.set("sid", jar.get("sid")!);
      const { done, gate } = await h.slow(jar, "cart=book");
      assert.equal(
        (await other.fetch("/logout", { method: "POST" })).status,
        200,
      );
      gate.open();
      const res = await done;
      assert.equal(res.status, 409);
      assert.match(await res.text(), /ended by another request/);
      assert.equal(res.headers.get("set-cookie"), null);
      assert.equal(
        await store.get(key, undefined as never) ?? undefined,
        undefined,
        "not resurrected",
      );
      assert.deepEqual(h.events.at(-1), {
        type: "conflict",
        outcome: "rejected",
      });
    } finally {
      close();
    }
  });

  Deno.test(`${name}: a slow request cannot bring back an id that regenerate() retired`, async () => {
    const { store, close } = await make();
    try {
      const h = harness(store);
      const jar = new Jar(h.app);
      await jar.fetch("/set?userId=ada", { method: "POST" });
      const oldId = jar.get("sid")!;
      const tab = new Jar(h.app);
      tab.cookies.set("sid", oldId);
      const { done, gate } = await h.slow(tab, "cart=book");
      await jar.fetch("/regen", { method: "POST" });
      gate.open();
      assert.equal((await done).status, 409);
      assert.equal(
        await store.get(await storeKey(oldId), undefined as never) ?? undefined,
        undefined,
      );
      assert.deepEqual(await (await jar.fetch("/all")).json(), {
        userId: "ada",
      });
    } finally {
      close();
    }
  });

  Deno.test(`${name}: concurrent changes to different values are merged, none lost`, async () => {
    const { store, close } = await make();
    try {
      const h = harness(store);
      const jar = new Jar(h.app);
      await jar.fetch("/set?userId=ada", { method: "POST" });
      const tab = new Jar(h.app);
      tab.cookies.set("sid", jar.get("sid")!);
      const { done, gate } = await h.slow(jar, "cart=book");
      assert.equal(
        (await tab.fetch("/set?theme=dark", { method: "POST" })).status,
        200,
      );
      gate.open();
      const res = await done;
      assert.equal(res.status, 200);
      assert.equal(
        await res.text(),
        '{"userId":"ada"}',
        "the slow request had loaded the old state",
      );
      assert.deepEqual(await (await jar.fetch("/all")).json(), {
        userId: "ada",
        theme: "dark",
        cart: "book",
      });
      assert.deepEqual(h.events.at(-1), {
        type: "conflict",
        outcome: "merged",
      });
    } finally {
      close();
    }
  });

  Deno.test(`${name}: concurrent changes to the same value: the later one fails loudly with 409`, async () => {
    const { store, close } = await make();
    try {
      const h = harness(store);
      const jar = new Jar(h.app);
      await jar.fetch("/set?theme=light", { method: "POST" });
      const tab = new Jar(h.app);
      tab.cookies.set("sid", jar.get("sid")!);
      const { done, gate } = await h.slow(jar, "theme=blue");
      await tab.fetch("/set?theme=dark", { method: "POST" });
      gate.open();
      const res = await done;
      assert.equal(res.status, 409);
      assert.match(await res.text(), /changed the same session value/);
      assert.deepEqual(await (await tab.fetch("/all")).json(), {
        theme: "dark",
      });
    } finally {
      close();
    }
  });

  Deno.test(`${name}: a slow request that changes nothing leaves a sign-out alone`, async () => {
    const { store, close } = await make();
    try {
      const h = harness(store);
      const jar = new Jar(h.app);
      await jar.fetch("/set?userId=ada", { method: "POST" });
      const key = await storeKey(jar.get("sid")!);
      const other = new Jar(h.app);
      other.cookies.set("sid", jar.get("sid")!);
      const { done, gate } = await h.slow(jar, "");
      await other.fetch("/logout", { method: "POST" });
      gate.open();
      const res = await done;
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("set-cookie"), null);
      assert.equal(
        await store.get(key, undefined as never) ?? undefined,
        undefined,
      );
    } finally {
      close();
    }
  });

  Deno.test(`${name}: many concurrent requests on one session, each adding its own value, lose none`, async () => {
    const { store, close } = await make();
    try {
      const h = harness(store);
      const jar = new Jar(h.app);
      await jar.fetch("/set?userId=ada", { method: "POST" });
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => {
          const tab = new Jar(h.app);
          tab.cookies.set("sid", jar.get("sid")!);
          return tab.fetch(`/set?k${i}=v${i}`, { method: "POST" });
        }),
      );
      const statuses = results.map((r) => r.status);
      const all = await (await jar.fetch("/all")).json();
      // Every request either landed (its key is there) or was refused loudly.
      for (const [i, status] of statuses.entries()) {
        if (status === 200) assert.equal(all[`k${i}`], `v${i}`, `k${i}`);
        else assert.equal(status, 409);
      }
      assert.ok(statuses.filter((s) => s === 200).length >= 1);
    } finally {
      close();
    }
  });
}

Deno.test("a plain Map detects nothing: the last write wins (as documented)", async () => {
  const store = new Map<string, SessionRecord>();
  const h = harness(store);
  const jar = new Jar(h.app);
  await jar.fetch("/set?userId=ada", { method: "POST" });
  const other = new Jar(h.app);
  other.cookies.set("sid", jar.get("sid")!);
  const { done, gate } = await h.slow(jar, "cart=book");
  await other.fetch("/logout", { method: "POST" });
  gate.open();
  assert.equal((await done).status, 200);
  assert.equal(store.size, 1, "the slow request wrote the session back");
});

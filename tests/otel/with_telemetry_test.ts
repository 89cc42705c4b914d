// The shape of what withTelemetry() and instrumentStore() return: a store
// wrapper that keeps the store's shape (synchronous answers, optional
// methods, the context), its kind, error types that hold nothing secret,
// and the mistakes refused when it is set up.
import assert from "node:assert/strict";
import { Hono } from "hono";
import {
  session,
  SessionConflictError,
  type SessionRecord,
  type SessionStore,
} from "../../mod.ts";
import { MemoryStore } from "../../stores/memory.ts";
import { instrumentStore, withTelemetry } from "../../otel.ts";
import { SCOPE, SCOPE_VERSION } from "../../_otel/instruments.ts";
import { Jar } from "../_helpers.ts";
import { TestSdk, total } from "./_sdk.ts";

const record: SessionRecord = { data: {}, expires: Date.now() + 60_000 };

Deno.test("otel: a synchronous store stays synchronous, and optional methods stay optional", async () => {
  const sdk = new TestSdk();
  try {
    const map = instrumentStore(new Map(), sdk);
    const answer = map.set("k", record, {} as never);
    assert.ok(answer instanceof Map, "Map.set's own answer, synchronously");
    assert.equal(map.get("k", {} as never), record, "not a promise");
    assert.equal(map.replace, undefined);
    assert.equal(map.listUser, undefined);
    const memory = instrumentStore(new MemoryStore({ sweepInterval: 0 }), sdk);
    assert.equal(typeof memory.replace, "function");
    assert.equal(typeof memory.listUser, "function");
    assert.deepEqual(
      sdk.spans().map((s) => [s.name, s.attributes["hono_session.store.kind"]]),
      [["hono_session.store.set", "map"], ["hono_session.store.get", "map"]],
    );
    // The instrumentation scope is this package, at its version.
    const config = JSON.parse(
      await Deno.readTextFile(new URL("../../deno.json", import.meta.url)),
    );
    assert.equal(SCOPE, config.name);
    assert.equal(SCOPE_VERSION, config.version);
  } finally {
    await sdk.shutdown();
  }
});

Deno.test("otel: the wrapper hands the store exactly its arguments, context included", async () => {
  const calls: unknown[][] = [];
  const spy: SessionStore = {
    get: (...args) => void calls.push(["get", ...args]),
    set: (...args) => void calls.push(["set", ...args]),
    delete: (...args) => void calls.push(["delete", ...args]),
    replace: (...args) => void calls.push(["replace", ...args]),
    listUser: (...args) => (calls.push(["listUser", ...args]), []),
  };
  const c = { marker: true } as never;
  const traced = instrumentStore(spy);
  await traced.get("a", c);
  await traced.set("a", record, c);
  await traced.delete("a");
  await traced.delete("a", c);
  await traced.replace!("a", "b", record, c);
  await traced.listUser!("u");
  assert.deepEqual(calls, [
    ["get", "a", c],
    ["set", "a", record, c],
    ["delete", "a"],
    ["delete", "a", c],
    ["replace", "a", "b", record, c],
    ["listUser", "u"],
  ]);
});

Deno.test("otel: store kinds, by class or as the app names them", async () => {
  const sdk = new TestSdk();
  try {
    const custom: SessionStore = {
      get: () => undefined,
      set: () => {},
      delete: () => {},
    };
    const kinds = [
      instrumentStore(new Map(), sdk),
      instrumentStore(new MemoryStore({ sweepInterval: 0 }), sdk),
      instrumentStore(custom, sdk),
      instrumentStore(custom, { ...sdk, storeKind: "sessions_pg" }),
    ];
    for (const store of kinds) await store.get("x", {} as never);
    assert.deepEqual(
      sdk.spans().map((s) => s.attributes["hono_session.store.kind"]),
      ["map", "memory", "custom", "sessions_pg"],
    );
  } finally {
    await sdk.shutdown();
  }
});

Deno.test("otel: an error's type is its class name, unless it is none or repeats what the store was given", async () => {
  const sdk = new TestSdk();
  try {
    const key = "k".repeat(43);
    const throwing = (error: unknown): SessionStore => ({
      get: () => {
        throw error;
      },
      set: () => {},
      delete: () => {},
    });
    const named = new Error("down");
    named.name = `Lost${key}`;
    for (const error of [new TypeError("x"), "a string", null, named]) {
      assert.throws(() =>
        instrumentStore(throwing(error), sdk).get(key, {} as never)
      );
    }
    // A conflict is no error: the store refused a stale write, as asked.
    const conflicting = instrumentStore({
      ...throwing(new SessionConflictError()),
    }, sdk);
    assert.throws(
      () => conflicting.get(key, {} as never),
      SessionConflictError,
    );
    assert.deepEqual(
      sdk.spans().map((s) => [s.attributes["error.type"], s.status.code]),
      [
        ["TypeError", 2],
        ["_OTHER", 2],
        ["_OTHER", 2],
        ["_OTHER", 2],
        [undefined, 0],
      ],
    );
    assert.equal(total(await sdk.metrics(), "hono_session.store.errors"), 4);
  } finally {
    await sdk.shutdown();
  }
});

Deno.test("otel: mistakes are refused when set up", () => {
  const store = new Map();
  const instrumented = withTelemetry({ store });
  assert.throws(
    () => withTelemetry(instrumented),
    /instrumented already/,
    "twice would count every event twice",
  );
  assert.throws(
    () => withTelemetry({ store: instrumented.store }),
    /instrumented already/,
  );
  assert.throws(
    () => instrumentStore(instrumented.store),
    /instrumented already/,
  );
  assert.throws(
    () => withTelemetry({ store: {} as never }),
    /get, set and delete/,
  );
  assert.throws(() => withTelemetry(null as never), /must be an object/);
  assert.throws(
    () => withTelemetry({}, { meterprovider: {} } as never),
    /unknown telemetry option "meterprovider"/,
  );
  assert.throws(
    () => withTelemetry({}, { meterProvider: {} as never }),
    /getMeter/,
  );
  assert.throws(
    () => withTelemetry({}, { tracerProvider: 1 as never }),
    /getTracer/,
  );
  assert.throws(
    () => withTelemetry({ store }, { storeKind: "Redis Cluster" }),
    /storeKind/,
  );
});

Deno.test("otel: with no SDK registered, an instrumented app works as ever", async () => {
  const app = new Hono()
    .use(session(withTelemetry({ store: new Map() })))
    .post("/login", (c) => {
      c.session.userId = "u";
      return c.text("ok");
    })
    .get("/read", (c) => c.text(String(c.session.userId)));
  const jar = new Jar(app);
  assert.equal((await jar.fetch("/login", { method: "POST" })).status, 200);
  assert.equal(await (await jar.fetch("/read")).text(), "u");
});

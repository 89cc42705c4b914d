// withTelemetry() on a store-mode middleware, read back through the SDK's
// in-memory exporters: the session counters, a span for each store call
// (a child of the request's span, with the store kind and operation), a
// latency sample per call, revocations through userSessions(), conflicts,
// and a failing store: its errors counted and recorded on their spans,
// with nothing secret in any of it.
import assert from "node:assert/strict";
import { context, metrics, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { Hono } from "hono";
import {
  session,
  type SessionEvent,
  type SessionRecord,
  type SessionStore,
  userSessions,
} from "../../mod.ts";
import { MemoryStore } from "../../stores/memory.ts";
import { withTelemetry } from "../../otel.ts";
import { Jar, storeKey, withFakeTime } from "../_helpers.ts";
import { type SpanData, TestSdk, total } from "./_sdk.ts";
import { assertNothingSecret } from "./_checks.ts";

const USER = "user-5e1f9c0d";
const VALUE = "value-8b2d77aa";

/** An SDK, and an app whose every request runs in a span of its own. */
async function withSdk(
  fn: (sdk: TestSdk, requestSpan: Hono) => Promise<void>,
): Promise<void> {
  const sdk = new TestSdk();
  const manager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(manager);
  try {
    const tracer = sdk.tracerProvider.getTracer("test app");
    // What an HTTP instrumentation does: the request's span is active
    // while the middleware and the handler run.
    const app = new Hono().use((c, next) =>
      tracer.startActiveSpan(`${c.req.method} ${c.req.path}`, async (span) => {
        try {
          await next();
        } finally {
          span.end();
        }
      })
    );
    await fn(sdk, app);
  } finally {
    context.disable();
    await sdk.shutdown();
  }
}

function routes(app: Hono, options: object, gate?: Promise<void>) {
  return app
    .use(session<{ userId?: string; note?: string; other?: string }>(options))
    .post("/login", (c) => {
      c.session.regenerate({ user: USER });
      c.session.userId = USER;
      return c.text("ok");
    })
    .post("/note", async (c) => {
      void c.session.note;
      if (c.req.query("wait")) await gate;
      const key = c.req.query("key") === "other" ? "other" : "note";
      c.session[key] = `${VALUE}-${c.req.query("v") ?? ""}`;
      return c.text("ok");
    })
    .get("/read", (c) => c.text(c.session.userId ?? "-"))
    .post("/logout", (c) => {
      c.session = null;
      return c.text("bye");
    })
    .onError((err, c) =>
      c.text(err.message, (err as { status?: 409 }).status ?? 500)
    );
}

function storeSpans(sdk: TestSdk): SpanData[] {
  return sdk.spans().filter((s) => s.name.startsWith("hono_session.store."));
}

/** Fails unless each store span is a child of a request span. */
function assertChildrenOfRequests(sdk: TestSdk): void {
  const spans = sdk.spans();
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  for (const s of storeSpans(sdk)) {
    const parent = s.parentSpanId && byId.get(s.parentSpanId);
    assert.ok(parent, `${s.name} has a parent span`);
    assert.equal(parent.traceId, s.traceId);
    assert.ok(!parent.name.startsWith("hono_session."), parent.name);
  }
}

Deno.test("otel, store mode: counters, a child span and a latency sample per store call, revocations", async () => {
  await withSdk(async (sdk, app) => {
    const heard: SessionEvent[] = [];
    const store = new MemoryStore({ sweepInterval: 0 });
    const options = withTelemetry({
      store,
      onEvent: (e: SessionEvent) => heard.push(e),
    }, sdk);
    const jar = new Jar(routes(app, options));
    await jar.fetch("/login", { method: "POST" }); // created: set
    const first = jar.get("sid")!;
    assert.equal(await (await jar.fetch("/read")).text(), USER); // get
    await jar.fetch("/login", { method: "POST" }); // regenerated: get, replace
    await jar.fetch("/note?v=1", { method: "POST" }); // get, set
    const id = jar.get("sid")!;
    await jar.fetch("/logout", { method: "POST" }); // signed out: get, delete
    // An ended session's id, and a cookie that is no id at all.
    for (const cookie of [`sid=${id}`, `sid=${first}`, "sid=not-an-id"]) {
      const res = await jar.app.request("/read", { headers: { cookie } });
      assert.equal(await res.text(), "-");
    }
    // Three devices signed in; then a job revokes them all.
    const devices = [new Jar(jar.app), new Jar(jar.app), new Jar(jar.app)];
    for (const d of devices) await d.fetch("/login", { method: "POST" });
    const sessions = userSessions(
      options.store,
      withTelemetry(undefined, sdk),
    );
    const job = sdk.tracerProvider.getTracer("test app");
    const handles = await job.startActiveSpan("revoke job", async (span) => {
      const listed = await sessions.list(USER);
      assert.equal(await sessions.revokeAll(USER), 3);
      span.end();
      return listed.map((s) => s.handle);
    });
    assert.equal(handles.length, 3);

    const m = await sdk.metrics();
    const mode = { "hono_session.mode": "store" };
    assert.equal(total(m, "hono_session.sessions.created", mode), 4);
    assert.equal(total(m, "hono_session.sessions.regenerated", mode), 1);
    assert.equal(total(m, "hono_session.sessions.signed_out", mode), 1);
    assert.equal(total(m, "hono_session.sessions.revoked"), 3);
    const refused = (reason: string) =>
      total(m, "hono_session.cookies.refused", {
        ...mode,
        "hono_session.refusal.reason": reason,
      });
    assert.equal(refused("unknown-id"), 2);
    assert.equal(refused("malformed"), 1);
    assert.equal(
      m.get("hono_session.cookie.size"),
      undefined,
      "cookie mode only",
    );
    assert.equal(total(m, "hono_session.store.errors"), 0);

    // A span per store call, named and attributed by operation, each a
    // child of its request's span (or of the job's).
    const spans = storeSpans(sdk);
    const ops = (name: string) =>
      spans.filter((s) => s.attributes["hono_session.store.operation"] === name)
        .length;
    for (const s of spans) {
      assert.equal(
        s.name,
        `hono_session.store.${s.attributes["hono_session.store.operation"]}`,
      );
      assert.equal(s.attributes["hono_session.store.kind"], "memory");
      assert.equal(s.status.code, 0, "unset: no error");
    }
    assert.equal(ops("replace"), 1);
    assert.equal(ops("list_user"), 3); // list, then revokeAll's two rounds
    assert.equal(ops("delete"), 4); // sign-out, three revocations
    assert.equal(ops("set"), 5); // four new sessions, one write
    assert.equal(ops("get"), 6); // read, login, note, logout, two ended ids
    assertChildrenOfRequests(sdk);
    // One latency sample per call, by kind and operation, in seconds.
    const duration = m.get("hono_session.store.operation.duration")!;
    assert.equal(duration.unit, "s");
    for (const op of ["get", "set", "delete", "replace", "list_user"]) {
      assert.equal(
        total(m, "hono_session.store.operation.duration", {
          "hono_session.store.kind": "memory",
          "hono_session.store.operation": op,
        }),
        ops(op),
        op,
      );
    }
    for (const p of duration.points) assert.ok(p.max! < 1);
    // The app's own listener heard every event the counters count.
    assert.equal(heard.filter((e) => e.type === "created").length, 4);
    assert.equal(heard.filter((e) => e.type === "unknown-id").length, 2);

    await assertNothingSecret(sdk, [
      USER,
      VALUE,
      first,
      id,
      storeKey(first),
      storeKey(id),
      ...handles,
      ...devices.flatMap((d) => [d.get("sid")!, storeKey(d.get("sid")!)]),
    ]);
  });
});

Deno.test("otel, store mode: conflicts counted by outcome, never as store errors", async () => {
  await withSdk(async (sdk, app) => {
    let open!: () => void;
    const gate = new Promise<void>((r) => open = r);
    const options = withTelemetry(
      { store: new MemoryStore({ sweepInterval: 0 }) },
      sdk,
    );
    const a = new Jar(routes(app, options, gate));
    await a.fetch("/login", { method: "POST" });
    const b = new Jar(a.app);
    b.cookies.set("sid", a.get("sid")!);
    // A loads the session and waits; B changes the same value meanwhile.
    const slow = a.fetch("/note?wait=1&v=a", { method: "POST" });
    assert.equal((await b.fetch("/note?v=b", { method: "POST" })).status, 200);
    open();
    assert.equal((await slow).status, 409, "the same value: rejected");
    // Now two requests changing different values: merged.
    let openAgain!: () => void;
    const gate2 = new Promise<void>((r) => openAgain = r);
    const c = new Jar(routes(new Hono(), options, gate2));
    c.cookies.set("sid", a.get("sid")!);
    const slow2 = c.fetch("/note?wait=1&key=other&v=c", { method: "POST" });
    assert.equal((await b.fetch("/note?v=d", { method: "POST" })).status, 200);
    openAgain();
    assert.equal((await slow2).status, 200, "different values: merged");

    const m = await sdk.metrics();
    const conflicts = (outcome: string) =>
      total(m, "hono_session.conflicts", {
        "hono_session.conflict.outcome": outcome,
      });
    assert.equal(conflicts("rejected"), 1);
    assert.equal(conflicts("merged"), 1);
    assert.equal(total(m, "hono_session.store.errors"), 0);
    const refusedWrites = storeSpans(sdk).filter((s) =>
      s.attributes["hono_session.store.conflict"] === true
    );
    assert.equal(refusedWrites.length, 2, "each refused set is marked");
    for (const s of refusedWrites) assert.equal(s.status.code, 0);
    await assertNothingSecret(sdk, [USER, VALUE, a.get("sid")!]);
  });
});

/** A store that fails when told to, with messages full of what it was given. */
class StoreDownError extends Error {
  override name = "StoreDownError";
}
class FailingStore implements SessionStore {
  readonly map = new Map<string, SessionRecord>();
  failing = new Set<string>();
  constructor(readonly async: boolean) {}
  #run<T>(op: string, id: string, fn: () => T, detail = ""): T | Promise<T> {
    const act = () => {
      if (this.failing.has(op)) {
        throw new StoreDownError(
          `cannot ${op} ${id} ${detail}: connection lost`,
        );
      }
      return fn();
    };
    return this.async ? Promise.resolve().then(act) : act();
  }
  get(id: string) {
    return this.#run(
      "get",
      id,
      () => this.map.get(id),
      JSON.stringify(this.map.get(id)),
    );
  }
  set(id: string, record: SessionRecord) {
    return this.#run(
      "set",
      id,
      () => void this.map.set(id, record),
      JSON.stringify(record),
    );
  }
  delete(id: string) {
    return this.#run("delete", id, () => void this.map.delete(id));
  }
}

for (const async of [false, true]) {
  Deno.test(`otel, store mode: a failing ${async ? "async" : "sync"} store: errors counted and recorded on their spans, by type only`, async () => {
    await withSdk(async (sdk, app) => {
      const store = new FailingStore(async);
      const jar = new Jar(routes(app, withTelemetry({ store }, sdk)));
      await jar.fetch("/login", { method: "POST" });
      const id = jar.get("sid")!;
      store.failing.add("get");
      assert.equal((await jar.fetch("/read")).status, 500);
      store.failing.clear();
      store.failing.add("set");
      assert.equal(
        (await jar.fetch("/note?v=2", { method: "POST" })).status,
        500,
      );
      assert.equal(
        (await new Jar(jar.app).fetch("/login", { method: "POST" })).status,
        500,
      );
      store.failing.clear();
      store.failing.add("delete");
      assert.equal(
        (await jar.fetch("/logout", { method: "POST" })).status,
        500,
      );

      const m = await sdk.metrics();
      const errors = (operation: string) =>
        total(m, "hono_session.store.errors", {
          "hono_session.store.kind": "custom",
          "hono_session.store.operation": operation,
          "error.type": "StoreDownError",
        });
      assert.equal(errors("get"), 1);
      assert.equal(errors("set"), 2);
      assert.equal(errors("delete"), 1);
      assert.equal(total(m, "hono_session.store.errors"), 4);
      // Failed calls are timed too, marked with their error type.
      assert.equal(
        total(m, "hono_session.store.operation.duration", {
          "error.type": "StoreDownError",
        }),
        4,
      );
      assert.equal(total(m, "hono_session.sessions.created"), 1);
      assert.equal(total(m, "hono_session.sessions.signed_out"), 0);
      const failed = storeSpans(sdk).filter((s) => s.status.code === 2);
      assert.equal(failed.length, 4);
      for (const s of failed) {
        assert.equal(s.status.message, "StoreDownError");
        assert.equal(s.attributes["error.type"], "StoreDownError");
        assert.deepEqual(s.events, [{
          name: "exception",
          attributes: { "exception.type": "StoreDownError" },
        }]);
      }
      assertChildrenOfRequests(sdk);
      await assertNothingSecret(sdk, [
        USER,
        VALUE,
        id,
        storeKey(id),
        "connection lost",
      ]);
    });
  });
}

Deno.test("otel, store mode: expired sessions, when the store hands them back; a store that drops them reports unknown ids", async () => {
  await withSdk(async (sdk, app) => {
    await withFakeTime(async (clock) => {
      const map = new Map<string, SessionRecord>();
      const memory = new MemoryStore({ sweepInterval: 0 });
      const jars = [map, memory].map((store) =>
        new Jar(routes(
          app.basePath(store === map ? "/map" : "/memory"),
          withTelemetry({ store, idleTimeout: 600 }, sdk),
        ))
      );
      for (const [i, jar] of jars.entries()) {
        const base = i === 0 ? "/map" : "/memory";
        await jar.fetch(`${base}/login`, { method: "POST" });
      }
      clock.tick(601_000);
      for (const [i, jar] of jars.entries()) {
        const base = i === 0 ? "/map" : "/memory";
        assert.equal(await (await jar.fetch(`${base}/read`)).text(), "-");
      }
    });
    const m = await sdk.metrics();
    assert.equal(
      total(m, "hono_session.sessions.expired", {
        "hono_session.mode": "store",
        "hono_session.expiry.reason": "idle",
      }),
      1,
      "the Map handed the record back: the middleware saw it expire",
    );
    assert.equal(
      total(m, "hono_session.cookies.refused", {
        "hono_session.refusal.reason": "unknown-id",
      }),
      1,
      "MemoryStore dropped it: an id it does not know",
    );
    assert.deepEqual(
      [
        ...new Set(
          storeSpans(sdk).map((s) => s.attributes["hono_session.store.kind"]),
        ),
      ].sort(),
      ["map", "memory"],
    );
  });
});

Deno.test("otel: with the global providers (no options), telemetry reaches the SDK registered before the first request", async () => {
  const sdk = new TestSdk();
  // Created before the SDK is registered, as apps often do.
  const options = withTelemetry({ store: new Map() });
  const app = routes(new Hono(), options);
  metrics.setGlobalMeterProvider(sdk.meterProvider);
  trace.setGlobalTracerProvider(sdk.tracerProvider);
  try {
    const jar = new Jar(app);
    await jar.fetch("/login", { method: "POST" });
    const m = await sdk.metrics();
    assert.equal(total(m, "hono_session.sessions.created"), 1);
    assert.deepEqual(storeSpans(sdk).map((s) => s.name), [
      "hono_session.store.set",
    ]);
  } finally {
    metrics.disable();
    trace.disable();
    await sdk.shutdown();
  }
});

Deno.test("otel, store mode: a span a driver starts inside a store call is that call's child", async () => {
  await withSdk(async (sdk, app) => {
    const driver = sdk.tracerProvider.getTracer("a database driver");
    const map = new Map<string, SessionRecord>();
    // A store whose every call makes a span of its own, as pg or ioredis
    // instrumentations do.
    const store: SessionStore = {
      get: (id) =>
        driver.startActiveSpan("driver GET", async (span) => {
          await Promise.resolve();
          span.end();
          return map.get(id);
        }),
      set: (id, record) =>
        driver.startActiveSpan("driver SET", (span) => {
          map.set(id, record);
          span.end();
        }),
      delete: (id) => void map.delete(id),
    };
    const jar = new Jar(routes(app, withTelemetry({ store }, sdk)));
    await jar.fetch("/login", { method: "POST" });
    await jar.fetch("/read");
    const spans = sdk.spans();
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const drivers = spans.filter((s) => s.name.startsWith("driver "));
    assert.deepEqual(drivers.map((s) => s.name), ["driver SET", "driver GET"]);
    for (const s of drivers) {
      assert.equal(
        byId.get(s.parentSpanId!)?.name,
        `hono_session.store.${s.name === "driver SET" ? "set" : "get"}`,
      );
    }
  });
});

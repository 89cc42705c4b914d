// The deviceBound option is checked when session() is called: a store
// that can move sessions in one checked step, never cookie mode, and
// lifetimes, paths and algorithms that work.
import assert from "node:assert/strict";
import { session, type SessionOptions } from "../../mod.ts";
import { MemoryStore } from "../../stores/memory.ts";
import { resolveOptions } from "../../_core/options.ts";
import { resolveDeviceBound } from "../../_device_bound/options.ts";
import { Jar } from "../../_testing/jar.ts";
import { DbscBrowser, readOffer } from "../../_testing/dbsc_browser.ts";
import { deviceApp } from "./_app.ts";

const store = new MemoryStore({ sweepInterval: 0 });

// The deviceBound settings session() resolves from `options`.
function settingsOf(options: SessionOptions) {
  return resolveDeviceBound(options.deviceBound, resolveOptions(options));
}

function refused(
  options: SessionOptions,
  kind: typeof TypeError | typeof RangeError,
  message: RegExp,
): void {
  assert.throws(() => session(options), (error: unknown) => {
    assert.ok(error instanceof kind, `${error}`);
    assert.match((error as Error).message, message);
    return true;
  });
}

Deno.test("device-bound options: cookie mode is refused, saying to use a store", () => {
  refused({ deviceBound: true }, TypeError, /deviceBound needs a store/);
  refused(
    { secret: "x".repeat(32), deviceBound: { lifetime: 60 } },
    TypeError,
    /cannot be ended on the server/,
  );
});

Deno.test("device-bound options: a store without replace() (a Map, unstorage) is refused", () => {
  refused(
    { store: new Map(), deviceBound: true },
    TypeError,
    /store with replace\(\)/,
  );
  const { replace: _, ...noReplace } = {
    get: () => undefined,
    set: () => {},
    delete: () => {},
    replace: () => {},
  };
  refused({ store: noReplace, deviceBound: true }, TypeError, /replace\(\)/);
});

Deno.test("device-bound options: wrong values are refused with what to change", () => {
  const cases: [unknown, typeof TypeError | typeof RangeError, RegExp][] = [
    ["yes", TypeError, /true, false or an options object/],
    [[], TypeError, /true, false or an options object/],
    [new (class X {})(), TypeError, /true, false or an options object/],
    [{ lifetme: 60 }, TypeError, /unknown option "deviceBound\.lifetme"/],
    [{ lifetime: 0 }, RangeError, /deviceBound\.lifetime/],
    [{ lifetime: -5 }, RangeError, /deviceBound\.lifetime/],
    [{ lifetime: "600" }, RangeError, /deviceBound\.lifetime/],
    [{ lifetime: NaN }, RangeError, /deviceBound\.lifetime/],
    [{ challengeTimeout: 0 }, RangeError, /challengeTimeout/],
    [{ challengeTimeout: 4000 }, RangeError, /at most 3600/],
    [{ registrationPath: "dbsc" }, TypeError, /registrationPath/],
    [{ registrationPath: "/a?b" }, TypeError, /registrationPath/],
    [{ refreshPath: '/a"b' }, TypeError, /refreshPath/],
    [{ refreshPath: "/a%20b" }, TypeError, /refreshPath/],
    [{ refreshPath: "/a b" }, TypeError, /refreshPath/],
    [
      { registrationPath: "/x", refreshPath: "/x" },
      TypeError,
      /must differ/,
    ],
    [{ algorithms: [] }, TypeError, /algorithms/],
    [{ algorithms: ["HS256"] }, TypeError, /algorithms/],
    [{ algorithms: ["ES256", "ES256"] }, TypeError, /algorithms/],
    [{ algorithms: "ES256" }, TypeError, /algorithms/],
  ];
  for (const [deviceBound, kind, message] of cases) {
    refused(
      { store, deviceBound: deviceBound as SessionOptions["deviceBound"] },
      kind,
      message,
    );
  }
  refused({ store, deviceBound: null as never }, TypeError, /is null/);
});

Deno.test("device-bound options: paths must be within the cookie's path; a Partitioned cookie is refused", () => {
  refused(
    {
      store,
      cookieOptions: { path: "/app" },
      deviceBound: { refreshPath: "/other/refresh" },
    },
    TypeError,
    /outside the session cookie's path "\/app"/,
  );
  refused(
    {
      store,
      cookieOptions: { path: "/app" },
      deviceBound: { refreshPath: "/application/refresh" },
    },
    TypeError,
    /outside/,
  );
  refused(
    { store, cookieOptions: { partitioned: true }, deviceBound: true },
    TypeError,
    /Partitioned/,
  );
});

Deno.test("device-bound options: defaults, and paths under the cookie's path named after the cookie", () => {
  const plain = settingsOf({ store, deviceBound: true })!;
  assert.equal(plain.lifetimeMs, 600_000);
  assert.equal(plain.challengeMs, 60_000);
  assert.deepEqual(plain.algorithms, ["ES256", "RS256"]);
  assert.equal(plain.registrationPath, "/__dbsc/sid/register");
  assert.equal(plain.refreshPath, "/__dbsc/sid/refresh");
  assert.equal(
    plain.cookieAttributes,
    "Path=/; Secure; HttpOnly; SameSite=Lax",
  );
  const nested = settingsOf({
    store,
    cookieName: "admin",
    cookieOptions: {
      path: "/admin",
      prefix: "secure",
      sameSite: "Strict",
      domain: "example.com",
    },
    deviceBound: { lifetime: 300 },
  })!;
  assert.equal(
    nested.registrationPath,
    "/admin/__dbsc/__Secure-admin/register",
  );
  assert.equal(nested.cookieName, "__Secure-admin");
  assert.equal(
    nested.cookieAttributes,
    "Path=/admin; Domain=example.com; Secure; HttpOnly; SameSite=Strict",
  );
  assert.equal(
    settingsOf({ store, deviceBound: false }),
    undefined,
  );
  assert.equal(settingsOf({ store }), undefined);
});

Deno.test("device-bound options: custom paths are offered and answered", async () => {
  const d = deviceApp({
    lifetime: 60,
    registrationPath: "/auth/dbsc/start",
    refreshPath: "/auth/dbsc/refresh",
  });
  const browser = await DbscBrowser.create(d.app);
  await browser.fetch("/login", { method: "POST" });
  assert.equal(browser.config?.refresh_url, "/auth/dbsc/refresh");
  assert.equal((await browser.refresh()).status, 200);
  // The default paths are then the app's own.
  const res = await new Jar(d.app).fetch("/__dbsc/sid/refresh", {
    method: "POST",
  });
  assert.equal(res.status, 404);
  const off = deviceApp(false);
  const login = await new Jar(off.app).fetch("/login", { method: "POST" });
  assert.equal(
    readOffer(login.headers.get("secure-session-registration")),
    undefined,
  );
});

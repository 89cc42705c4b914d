// Rule 10: a misconfiguration throws when session() is called, and the
// message says what to fix.
import assert from "node:assert/strict";
import { session, type SessionOptions } from "../mod.ts";
import { basicApp, Jar } from "./_helpers.ts";

const cases: [string, unknown, ErrorConstructor, RegExp][] = [
  [
    "short secret",
    { secret: "too-short" },
    RangeError,
    /secret must have at least 32 characters; this one has 9/,
  ],
  [
    "secret of the wrong type",
    { secret: 42 },
    TypeError,
    /secret must be a string of at least 32 characters/,
  ],
  [
    "maxAge 0",
    { maxAge: 0 },
    RangeError,
    /maxAge must be a number of seconds above 0 and at most 34560000 \(400 days\); got 0/,
  ],
  [
    "negative maxAge",
    { maxAge: -1 },
    RangeError,
    /maxAge must be a number of seconds above 0/,
  ],
  ["NaN maxAge", { maxAge: NaN }, RangeError, /got NaN/],
  ["infinite maxAge", { maxAge: Infinity }, RangeError, /got Infinity/],
  [
    "maxAge over 400 days",
    { maxAge: 400 * 86400 + 1 },
    RangeError,
    /at most 34560000/,
  ],
  ["maxAge as a string", { maxAge: "3600" }, RangeError, /got 3600/],
  [
    "__Host- prefix without Secure",
    { cookieOptions: { prefix: "host", secure: false } },
    TypeError,
    /__Host-sid.*needs secure: true and path: "\/"/,
  ],
  [
    "__Host- prefix with another path",
    { cookieOptions: { prefix: "host", path: "/app" } },
    TypeError,
    /__Host- prefix, which needs secure: true and path: "\/"/,
  ],
  [
    "__Host- name without Secure",
    { cookieName: "__Host-sid", cookieOptions: { secure: false } },
    TypeError,
    /__Host-sid/,
  ],
  [
    "__Host- prefix with a domain",
    {
      cookieOptions: { prefix: "host" },
      existsCookieOptions: { domain: "example.com" },
    },
    TypeError,
    /__Host-sx.*forbids a domain/,
  ],
  [
    "__Secure- prefix without Secure",
    { cookieOptions: { prefix: "secure", secure: false } },
    TypeError,
    /__Secure- prefix, which needs secure: true/,
  ],
  [
    "unknown prefix",
    { cookieOptions: { prefix: "strict" } },
    TypeError,
    /prefix must be "host" or "secure"/,
  ],
  [
    "Max-Age in cookieOptions",
    { cookieOptions: { maxAge: 60 } },
    TypeError,
    /cookieOptions.maxAge is not supported.*set the maxAge option instead/,
  ],
  [
    "expires in existsCookieOptions",
    { existsCookieOptions: { expires: new Date() } },
    TypeError,
    /existsCookieOptions.expires is not supported/,
  ],
  [
    "bad cookie name",
    { cookieName: "my sid" },
    TypeError,
    /cookieName must be a non-empty cookie name/,
  ],
  [
    "empty cookie name",
    { existsCookieName: "" },
    TypeError,
    /existsCookieName must be a non-empty cookie name/,
  ],
  [
    "same name twice",
    { cookieName: "s", existsCookieName: "s" },
    TypeError,
    /cookieName and existsCookieName must differ/,
  ],
  [
    "partitioned without Secure",
    { cookieOptions: { partitioned: true, secure: false } },
    TypeError,
    /Partitioned Cookie must have Secure/,
  ],
  [
    "path with a semicolon",
    { cookieOptions: { path: "/;x" } },
    TypeError,
    /path must not contain/,
  ],
  [
    "store missing delete",
    { store: { get() {}, set() {} } },
    TypeError,
    /store must have get, set and delete methods.*delete is missing/,
  ],
  [
    "encoder missing decode",
    { encoder: { encode: () => "" } },
    TypeError,
    /encoder must have encode\(record, secret\) and decode\(value, secret\)/,
  ],
  ["options not an object", "sid", TypeError, /options must be an object/],
];

for (const [name, options, type, message] of cases) {
  Deno.test(`session() refuses: ${name}`, () => {
    assert.throws(() => session(options as SessionOptions), (error: Error) => {
      assert.ok(error instanceof type, `${error.name} is a ${type.name}`);
      assert.match(error.message, message);
      return true;
    });
  });
}

Deno.test("session() accepts the limits themselves and a Map", async () => {
  session({ secret: "x".repeat(32), maxAge: 400 * 86400 });
  session({ maxAge: 0.5 });
  session({ store: new Map() });
  session({ cookieName: "__Host-sid", existsCookieName: "__Host-sx" });
  const jar = new Jar(basicApp({ maxAge: 0.5 }));
  await jar.fetch("/login", { method: "POST" });
  assert.equal(
    jar.last[0].maxAge,
    1,
    "a fractional maxAge rounds up in the cookie",
  );
});

Deno.test("session() draws no random value when it is created (Cloudflare Workers forbid it at start-up)", async () => {
  const original = crypto.getRandomValues;
  crypto.getRandomValues = () => {
    throw new Error("random values at start-up");
  };
  let cookieMode, storeMode;
  try {
    cookieMode = basicApp({});
    storeMode = basicApp({ store: new Map() });
  } finally {
    crypto.getRandomValues = original;
  }
  for (const app of [cookieMode, storeMode]) {
    const jar = new Jar(app);
    await jar.fetch("/login", { method: "POST" });
    assert.deepEqual(await jar.text("/read"), [200, "ada"]);
  }
});

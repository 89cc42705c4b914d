// A misconfiguration throws when session() is called, and the message says
// what to fix.
import assert from "node:assert/strict";
import { session, type SessionOptions } from "../../mod.ts";
import { basicApp, Jar, SECRET } from "../_helpers.ts";

const codec = { encode: () => "", decode: () => ({}) };

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
  [
    "maxAge as a string",
    { maxAge: "3600" },
    RangeError,
    /got "3600" \(a string\)/,
  ],
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
  ["options not an object", "sid", TypeError, /options must be a plain object/],
  // Unknown keys: a misspelled option would silently fall back to its default.
  [
    "misspelled option (secrets)",
    { secrets: [SECRET] },
    TypeError,
    /^session\(\): unknown option "secrets"; did you mean "secret"\?$/,
  ],
  [
    "option in the wrong case (maxage)",
    { maxage: 60 },
    TypeError,
    /^session\(\): unknown option "maxage"; did you mean "maxAge"\?$/,
  ],
  [
    "iron-session's name for the secret (password)",
    { password: SECRET },
    TypeError,
    /unknown option "password"; did you mean "secret"\?/,
  ],
  [
    "cookie attribute outside cookieOptions",
    { secure: false },
    TypeError,
    /unknown option "secure"; did you mean "cookieOptions\.secure"\?/,
  ],
  [
    "unknown option with no near match",
    { lifetime: 60 },
    TypeError,
    /unknown option "lifetime"; the options are secret, encoder, store, maxAge, /,
  ],
  [
    "misspelled key in cookieOptions",
    { cookieOptions: { samesite: "Strict" } },
    TypeError,
    /unknown option "cookieOptions\.samesite"; did you mean "cookieOptions\.sameSite"\?/,
  ],
  [
    "misspelled key in existsCookieOptions",
    { existsCookieOptions: { domian: "example.com" } },
    TypeError,
    /unknown option "existsCookieOptions\.domian"; did you mean "existsCookieOptions\.domain"\?/,
  ],
  [
    "unknown key in cookieOptions with no near match",
    { cookieOptions: { signed: true } },
    TypeError,
    /unknown option "cookieOptions\.signed"; cookieOptions takes domain, path, secure, httpOnly, sameSite, partitioned, priority, prefix/,
  ],
  // touchFraction: above one half, steady activity can still be signed out.
  [
    "touchFraction 1",
    { idleTimeout: 600, touchFraction: 1 },
    RangeError,
    /touchFraction must be a number above 0 and at most 0\.5; got 1\. Above 0\.5, a user whose requests come just over half of idleTimeout apart is signed out/,
  ],
  [
    "touchFraction 0.6",
    { idleTimeout: 600, touchFraction: 0.6 },
    RangeError,
    /touchFraction must be a number above 0 and at most 0\.5; got 0\.6/,
  ],
  // SameSite.
  [
    "sameSite misspelled",
    { cookieOptions: { sameSite: "Laxx" } },
    TypeError,
    /cookieOptions\.sameSite must be "Strict", "Lax" or "None" \(any letter case\); got "Laxx"/,
  ],
  [
    "sameSite false",
    { cookieOptions: { sameSite: false } },
    TypeError,
    /cookieOptions\.sameSite must be "Strict", "Lax" or "None" \(any letter case\); got false/,
  ],
  [
    "sameSite None without Secure",
    { cookieOptions: { sameSite: "None", secure: false } },
    TypeError,
    /cookieOptions sets sameSite: "None" with secure: false, and browsers drop such cookies; remove secure: false, or choose sameSite "Lax" or "Strict"/,
  ],
  [
    "sameSite none (lower case) without Secure in the merged exists cookie",
    {
      cookieOptions: { secure: false, sameSite: "Lax" },
      existsCookieOptions: { sameSite: "none" },
    },
    TypeError,
    /existsCookieOptions \(laid over cookieOptions\) sets sameSite: "None" with secure: false/,
  ],
  // Cookie attributes of the wrong type or shape.
  [
    "httpOnly that is not a boolean",
    { cookieOptions: { httpOnly: 0 } },
    TypeError,
    /cookieOptions\.httpOnly must be true or false; got 0/,
  ],
  [
    "secure null",
    { existsCookieOptions: { secure: null } },
    TypeError,
    /existsCookieOptions\.secure must be true or false; got null/,
  ],
  [
    "path not starting with a slash",
    { cookieOptions: { path: "app" } },
    TypeError,
    /cookieOptions\.path must start with "\/"; got "app"/,
  ],
  [
    "priority misspelled",
    { cookieOptions: { priority: "Hihg" } },
    TypeError,
    /cookieOptions\.priority must be "Low", "Medium" or "High" \(any letter case\); got "Hihg"/,
  ],
  [
    "__Host- prefix typed in another case",
    { cookieName: "__host-sid" },
    TypeError,
    /cookieName "__host-sid" starts with "__host-": write the prefix as "__Host-"/,
  ],
  [
    "prefix typed in the name and given as an option",
    { cookieName: "__Host-sid", cookieOptions: { prefix: "host" } },
    TypeError,
    /cookieName "__Host-sid" already starts with "__Host-" and cookieOptions\.prefix adds another/,
  ],
  // Store mode with cookie-mode options.
  [
    "store with a secret",
    { store: new Map(), secret: SECRET },
    TypeError,
    /secret does nothing with a store: remove it, or remove the store to keep sessions in the cookie/,
  ],
  [
    "store with an encoder",
    { store: new Map(), encoder: codec },
    TypeError,
    /encoder does nothing with a store: remove it, or remove the store/,
  ],
  [
    "store null",
    { store: null },
    TypeError,
    /store is null; pass a store, or leave the option out for cookie mode/,
  ],
  // A secret read from an environment variable that is not set.
  [
    "secret given but undefined",
    { secret: undefined },
    TypeError,
    /^session\(\): secret is undefined: the environment variable you read it from is probably not set; set it \(openssl rand -base64 32\), or leave the secret option out for a random per-process secret$/,
  ],
  [
    "secret null",
    { secret: null },
    TypeError,
    /secret is null: the environment variable you read it from is probably not set/,
  ],
  [
    "secret empty",
    { secret: "" },
    RangeError,
    /secret is empty: the environment variable you read it from is probably not set/,
  ],
  [
    "secret of spaces only",
    { secret: " ".repeat(40) },
    RangeError,
    /secret is empty: the environment variable/,
  ],
  [
    "empty secret in a list",
    { secret: [SECRET, ""] },
    RangeError,
    /secret\[1\] is empty: the environment variable/,
  ],
  [
    "options that are a Map",
    new Map([["secret", SECRET]]),
    TypeError,
    /options must be a plain object \(\{ \.\.\. \}\); got a Map/,
  ],
  [
    "options inherited from a prototype",
    Object.create({ secret: SECRET }),
    TypeError,
    /options must be a plain object/,
  ],
  [
    "a symbol key",
    { [Symbol("secret")]: SECRET },
    TypeError,
    /options cannot have symbol keys/,
  ],
  [
    "a misspelled option that is not enumerable",
    Object.defineProperty({}, "maxage", { value: 60 }),
    TypeError,
    /unknown option "maxage"; did you mean "maxAge"\?/,
  ],
  [
    "a secret getter that returns undefined",
    {
      get secret() {
        return undefined;
      },
    },
    TypeError,
    /secret is undefined/,
  ],
  [
    "cookieOptions inherited from a prototype",
    { cookieOptions: Object.create({ sameSite: "Strict" }) },
    TypeError,
    /cookieOptions must be a plain object/,
  ],
  [
    "a store with secret: undefined",
    { store: new Map(), secret: undefined },
    TypeError,
    /secret does nothing with a store/,
  ],
  [
    "touchFraction null",
    { touchFraction: null },
    TypeError,
    /touchFraction is null; give a value, or leave the option out/,
  ],
  [
    "cookieName null",
    { cookieName: null },
    TypeError,
    /cookieName is null/,
  ],
  ["encoder null", { encoder: null }, TypeError, /encoder is null/],
  [
    "compression in an unknown format",
    { compression: "brotli" },
    TypeError,
    /compression must be "deflate-raw" or "gzip"; got "brotli"/,
  ],
  [
    "compression: true",
    { compression: true },
    TypeError,
    /compression must be "deflate-raw" or "gzip"; got true/,
  ],
  [
    "compression with a store",
    { store: new Map(), compression: "gzip" },
    TypeError,
    /compression does nothing with a store/,
  ],
  [
    "compression with a custom encoder",
    { encoder: codec, compression: "deflate-raw" },
    TypeError,
    /compression works on the built-in iron seal; a custom encoder can compress inside its own encode\(\) and decode\(\)/,
  ],
  [
    "cookieChunks with a store",
    { store: new Map(), cookieChunks: true },
    TypeError,
    /cookieChunks does nothing with a store/,
  ],
  [
    "cookieChunks: 1",
    { cookieChunks: 1 },
    RangeError,
    /cookieChunks must be a whole number from 2 to 10 \(true means 3\); got 1\. Leave it out to keep the session in one cookie/,
  ],
  [
    "cookieChunks over 10",
    { cookieChunks: 11 },
    RangeError,
    /cookieChunks must be a whole number from 2 to 10 .*; got 11/,
  ],
  [
    "cookieChunks not whole",
    { cookieChunks: 2.5 },
    RangeError,
    /cookieChunks must be a whole number .*; got 2\.5/,
  ],
  [
    "cookieChunks as a string",
    { cookieChunks: "3" },
    TypeError,
    /cookieChunks must be true, false, or the most cookies a session may span \(2 to 10\); got "3"/,
  ],
  [
    "cookieChunks null",
    { cookieChunks: null },
    TypeError,
    /cookieChunks is null/,
  ],
  [
    "an exists cookie named like one of the chunks",
    { cookieChunks: true, existsCookieName: "sid.1" },
    TypeError,
    /existsCookieName "sid\.1" is the name of one of the session cookie's chunks \(cookieChunks\); choose another name/,
  ],
  [
    "a misspelled cookieChunks",
    { cookieChunk: 3 },
    TypeError,
    /unknown option "cookieChunk"; did you mean "cookieChunks"\?/,
  ],
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

Deno.test("session() accepts compression and cookieChunks in every allowed form", () => {
  session({ compression: "deflate-raw" });
  session({ compression: "gzip", cookieChunks: true });
  session({ cookieChunks: false });
  session({ cookieChunks: 2 });
  session({ cookieChunks: 10, compression: undefined });
  session({ encoder: codec, cookieChunks: 4 });
  // Without the option, an exists cookie may have any name.
  session({ existsCookieName: "sid.1" });
});

Deno.test("session() refuses compression on a runtime without CompressionStream", () => {
  const original = globalThis.CompressionStream;
  // @ts-ignore: a runtime without it
  delete globalThis.CompressionStream;
  try {
    assert.throws(
      () => session({ compression: "gzip" }),
      /compression needs CompressionStream and DecompressionStream, which this runtime does not have/,
    );
    session({ cookieChunks: true }); // chunks need no compression
  } finally {
    globalThis.CompressionStream = original;
  }
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

Deno.test("session() accepts SameSite in any letter case and writes it canonically", async () => {
  for (
    const [sameSite, written] of [
      ["lax", "Lax"],
      ["Strict", "Strict"],
      ["LAX", "Lax"],
      ["none", "None"],
    ]
  ) {
    const jar = new Jar(
      basicApp({
        secret: SECRET,
        cookieOptions: { sameSite } as SessionOptions["cookieOptions"],
      }),
    );
    await jar.fetch("/login", { method: "POST" });
    for (const cookie of jar.last) {
      assert.equal(cookie.attributes.samesite, written, cookie.raw);
      assert.equal(cookie.attributes.secure, true, cookie.raw);
    }
  }
});

Deno.test("session() accepts a left-out secret, touchFraction 0.5, options without a prototype", () => {
  session();
  session({});
  session({ idleTimeout: 600, touchFraction: 0.5 });
  session({ store: new Map() });
  session(Object.assign(Object.create(null), { secret: SECRET }));
  session({ secret: [SECRET, "y".repeat(32)] });
  session({ cookieOptions: { sameSite: "None", partitioned: true } });
});

Deno.test("session() treats undefined cookie attributes as left out, keeping the defaults", async () => {
  const jar = new Jar(basicApp({
    secret: SECRET,
    cookieOptions: {
      secure: undefined,
      httpOnly: undefined,
      path: undefined,
      sameSite: undefined,
    },
    existsCookieOptions: { secure: undefined, sameSite: undefined },
  }));
  await jar.fetch("/login", { method: "POST" });
  const [sid, sx] = jar.last;
  assert.deepEqual(
    [
      sid.name,
      sid.attributes.secure,
      sid.attributes.httponly,
      sid.attributes.path,
      sid.attributes.samesite,
    ],
    ["sid", true, true, "/", "Lax"],
  );
  assert.deepEqual(
    [sx.name, sx.attributes.secure, sx.attributes.path, sx.attributes.samesite],
    ["sx", true, "/", "Lax"],
  );
});

Deno.test("the exists cookie stays readable from JavaScript even when existsCookieOptions says httpOnly", async () => {
  const jar = new Jar(basicApp({
    secret: SECRET,
    existsCookieOptions: { httpOnly: true },
  }));
  await jar.fetch("/login", { method: "POST" });
  const [sid, sx] = jar.last;
  assert.equal(sid.attributes.httponly, true);
  assert.equal(sx.name, "sx");
  assert.equal(sx.attributes.httponly, undefined, sx.raw);
});

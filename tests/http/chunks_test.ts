// cookieChunks, at the level of the cookies themselves: where a value
// splits (to the byte, with an encoder whose output length is exact), what
// a response sets and expires, and which Cookie headers are read as a
// session. Sessions sealed with iron, across requests, are in
// tests/cookie_mode/chunked_session_test.ts.
import assert from "node:assert/strict";
import type { Encoder, SessionEvent } from "../../mod.ts";
import {
  exactEncoder,
  Jar,
  SECRET,
  setCookies,
  sizedApp,
} from "../_helpers.ts";
import { splitValue } from "../../_http/chunks.ts";

/** The Set-Cookie lines of a response as `name=length` or `name:gone`. */
function shape(res: Response): string[] {
  return setCookies(res).map((c) =>
    c.maxAge === 0 ? `${c.name}:gone` : `${c.name}=${c.value.length}`
  );
}

/** Each Set-Cookie line's name and value, as the browser counts them. */
function pairSizes(res: Response): number[] {
  return res.headers.getSetCookie().map((line) =>
    line.split(";")[0]!.length - 1
  );
}

Deno.test("chunks: a value splits exactly at the 4096-byte limit of each cookie, up to the maximum", async () => {
  const app = sizedApp({
    secret: SECRET,
    encoder: exactEncoder(),
    cookieChunks: true,
  });
  // "sid" takes 3 bytes: one cookie holds 4093; "sid.0" takes 5: a chunk
  // holds 4091.
  const cases: [number, string[]][] = [
    [4093, ["sid=4093", "sid.0:gone", "sid.1:gone", "sid.2:gone", "sx=1"]],
    [4094, ["sid.0=4091", "sid.1=3", "sid:gone", "sid.2:gone", "sx=1"]],
    [8182, ["sid.0=4091", "sid.1=4091", "sid:gone", "sid.2:gone", "sx=1"]],
    [8183, ["sid.0=4091", "sid.1=4091", "sid.2=1", "sid:gone", "sx=1"]],
    [12273, ["sid.0=4091", "sid.1=4091", "sid.2=4091", "sid:gone", "sx=1"]],
  ];
  for (const [size, expected] of cases) {
    const jar = new Jar(app);
    const res = await jar.fetch(`/size/${size}`, { method: "POST" });
    assert.equal(res.status, 200, `${size}`);
    assert.deepEqual(shape(res), expected, `${size}`);
    assert.ok(pairSizes(res).every((n) => n <= 4096), `${size}`);
    assert.deepEqual(await jar.text("/size"), [200, String(size)]);
  }
  // One byte over the maximum: the save fails with the oversize error and
  // nothing is sent.
  const over = await app.request("/size/12274", { method: "POST" });
  assert.equal(over.status, 500);
  assert.match(
    await over.text(),
    /^RangeError: session cookie "sid" would be 12277 bytes, over the 3 cookies of 4096 bytes \(names included\) that cookieChunks allows; store less in the session, allow more chunks/,
  );
  assert.equal(over.headers.get("set-cookie"), null);
});

Deno.test("chunks: the maximum is configurable, from 2 to 10 cookies", async () => {
  for (const max of [2, 10]) {
    const app = sizedApp({
      secret: SECRET,
      encoder: exactEncoder(),
      cookieChunks: max,
    });
    const full = await app.request(`/size/${4091 * max}`, { method: "POST" });
    assert.equal(full.status, 200);
    const set = setCookies(full).filter((c) => c.maxAge !== 0);
    assert.deepEqual(
      set.map((c) => c.name),
      [...Array.from({ length: max }, (_, i) => `sid.${i}`), "sx"],
    );
    // Every other name is expired: the plain one, and none beyond the max.
    assert.deepEqual(
      setCookies(full).filter((c) => c.maxAge === 0).map((c) => c.name),
      ["sid"],
    );
    const over = await app.request(`/size/${4091 * max + 1}`, {
      method: "POST",
    });
    assert.equal(over.status, 500);
    assert.match(await over.text(), new RegExp(`over the ${max} cookies`));
  }
});

Deno.test("chunks: a prefixed name, and the chunks' attributes are the session cookie's", async () => {
  const app = sizedApp({
    secret: SECRET,
    encoder: exactEncoder(),
    cookieChunks: true,
    cookieOptions: { prefix: "host", sameSite: "Strict" },
  });
  // "__Host-sid" takes 10 bytes, "__Host-sid.0" 12.
  const plain = await app.request("/size/4086", { method: "POST" });
  assert.deepEqual(shape(plain).slice(0, 1), ["__Host-sid=4086"]);
  const res = await app.request("/size/4087", { method: "POST" });
  assert.deepEqual(shape(res), [
    "__Host-sid.0=4084",
    "__Host-sid.1=3",
    "__Host-sid:gone",
    "__Host-sid.2:gone",
    "__Host-sx=1",
  ]);
  const attributes = (raw: string) =>
    raw.split("; ").slice(1).filter((a) => !a.startsWith("Max-Age")).sort();
  const lines = res.headers.getSetCookie();
  for (const raw of lines.slice(1, 4)) {
    assert.deepEqual(attributes(raw), attributes(lines[0]!), raw);
  }
  assert.deepEqual(attributes(lines[0]!), [
    "HttpOnly",
    "Path=/",
    "SameSite=Strict",
    "Secure",
  ]);
});

Deno.test("chunks: a value is never split inside an escape or a character; each chunk decodes on its own", async () => {
  // Unit: every cut lands before an escape.
  for (const capacity of [12, 13, 14, 15, 100]) {
    const encoded = encodeURIComponent("aé".repeat(40));
    const pieces = splitValue(encoded, capacity);
    assert.equal(pieces.join(""), encoded);
    for (const piece of pieces) {
      assert.ok(piece.length <= capacity && piece.length > 0);
      assert.doesNotThrow(() => decodeURIComponent(piece), piece);
    }
  }
  // Through the middleware: a value of "é"s (six bytes each on the wire).
  const app = sizedApp({
    secret: SECRET,
    encoder: exactEncoder(),
    cookieChunks: true,
  });
  const jar = new Jar(app);
  const res = await jar.fetch("/size/1500?escaped", { method: "POST" });
  assert.equal(res.status, 200);
  const chunks = res.headers.getSetCookie().filter((l) =>
    /^sid\.\d=[^;]/.test(l)
  );
  assert.equal(chunks.length, 3);
  for (const raw of chunks) {
    const value = raw.split(";")[0]!.split("=")[1]!;
    assert.doesNotThrow(() => decodeURIComponent(value));
    assert.ok(raw.split(";")[0]!.length <= 4096);
  }
  assert.deepEqual(await jar.text("/size"), [200, "1500"]);
});

// A session of three chunks from a jar, and the app that made it.
async function threeChunks(
  onEvent?: (e: SessionEvent) => void,
  encoder: Encoder = exactEncoder(),
) {
  const app = sizedApp({
    secret: SECRET,
    encoder,
    cookieChunks: true,
    ...(onEvent ? { onEvent } : {}),
  });
  const jar = new Jar(app);
  await jar.fetch("/size/10000", { method: "POST" });
  const [a, b, c] = ["sid.0", "sid.1", "sid.2"].map((n) => jar.get(n)!);
  return { app, a: a!, b: b!, c: c! };
}

Deno.test("chunks: the Cookie header may list the chunks in any order", async () => {
  const { app, a, b, c } = await threeChunks();
  for (
    const header of [
      `sid.0=${a}; sid.1=${b}; sid.2=${c}`,
      `sid.2=${c}; sid.0=${a}; sid.1=${b}`,
      `other=1; sid.1=${b};sid.2=${c} ; sid.0=${a}; sx=1`,
      // Cookies that only start like a chunk's name are someone else's.
      `sid.theme=dark; sid.0=${a}; sid.1=${b}; sid.2=${c}; sid.=1; sid.x1=2`,
    ]
  ) {
    const res = await app.request("/size", { headers: { cookie: header } });
    assert.equal(await res.text(), "10000", header.slice(0, 60));
  }
});

Deno.test("chunks: missing, duplicated, extra, lone or mixed chunks are no session, never an error", async () => {
  const events: SessionEvent[] = [];
  const { app, a, b, c } = await threeChunks((e) => void events.push(e));
  events.length = 0;
  const cases: [string, string, string][] = [
    ["the last chunk missing", `sid.0=${a}; sid.1=${b}`, "bad-seal"],
    ["a middle chunk missing", `sid.0=${a}; sid.2=${c}`, "malformed"],
    ["the first chunk missing", `sid.1=${b}; sid.2=${c}`, "malformed"],
    ["a lone chunk", `sid.0=${a}`, "malformed"],
    [
      "a chunk twice",
      `sid.0=${a}; sid.1=${b}; sid.1=${b}; sid.2=${c}`,
      "duplicate",
    ],
    [
      "a chunk twice, the copy different",
      `sid.0=${a}; sid.1=${b}; sid.2=${c}; sid.0=x`,
      "duplicate",
    ],
    [
      "a chunk beyond the maximum",
      `sid.0=${a}; sid.1=${b}; sid.2=${c}; sid.3=x`,
      "oversized",
    ],
    [
      "a chunk far beyond",
      `sid.0=${a}; sid.1=${b}; sid.2=${c}; sid.99999999999999999999=x`,
      "oversized",
    ],
    ["a leading zero", `sid.00=${a}; sid.1=${b}; sid.2=${c}`, "malformed"],
    [
      "chunks and the plain name",
      `sid=${a}; sid.0=${a}; sid.1=${b}; sid.2=${c}`,
      "malformed",
    ],
    ["an empty chunk", `sid.0=${a}; sid.1=; sid.2=${c}`, "malformed"],
    [
      "a chunk that is not a cookie value",
      `sid.0=${a}; sid.1=${b}"; sid.2=${c}`,
      "malformed",
    ],
    [
      "a chunk over 4096 bytes",
      `sid.0=${a}x; sid.1=${b}; sid.2=${c}`,
      "oversized",
    ],
    [
      "a broken escape",
      `sid.0=${a}; sid.1=${b}; sid.2=${c}%E0%A4%A`,
      "malformed",
    ],
    ["chunks swapped", `sid.0=${b}; sid.1=${a}; sid.2=${c}`, "bad-seal"],
  ];
  for (const [what, cookie, reason] of cases) {
    events.length = 0;
    const res = await app.request("/size", { headers: { cookie } });
    assert.equal(res.status, 200, what);
    assert.equal(await res.text(), "-", what);
    assert.equal(
      res.headers.get("set-cookie"),
      null,
      `${what}: nothing is written`,
    );
    assert.deepEqual(events, [{ type: "invalid-cookie", reason }], what);
    // A write starts a new session and clears every name the old one used.
    const write = await app.request("/size/5", {
      method: "POST",
      headers: { cookie },
    });
    assert.equal(write.status, 200, what);
    const gone = setCookies(write).filter((x) => x.maxAge === 0).map((x) =>
      x.name
    );
    for (const name of ["sid.0", "sid.1", "sid.2"]) {
      assert.ok(gone.includes(name), `${what}: ${name} expired`);
    }
  }
});

Deno.test("chunks: chunk-count bombs in the Cookie header are no session, never an error", async () => {
  const { app, a, b, c } = await threeChunks();
  const good = `sid.0=${a}; sid.1=${b}; sid.2=${c}`;
  const many = (n: number, make: (i: number) => string) =>
    Array.from({ length: n }, (_, i) => make(i)).join("; ");
  for (
    const [what, cookie] of [
      ["5,000 chunk names", many(5000, (i) => `sid.${i}=x`)],
      ["5,000 copies of one chunk", many(5000, () => `sid.0=${a.slice(0, 5)}`)],
      [
        "a good session, then 5,000 more chunks",
        `${good}; ${many(5000, (i) => `sid.${i + 3}=x`)}`,
      ],
      [
        "5,000 names that only look like chunks",
        `${many(5000, (i) => `sid.x${i}=x`)}; ${good}`,
      ],
    ]
  ) {
    const res = await app.request("/size", { headers: { cookie } });
    assert.equal(res.status, 200, what);
    assert.equal(
      await res.text(),
      what.startsWith("5,000 names") ? "10000" : "-",
      what,
    );
    // A write expires at most the ten chunk names a session may have had.
    const write = await app.request("/size/5", {
      method: "POST",
      headers: { cookie },
    });
    assert.equal(write.status, 200, what);
    assert.ok(write.headers.getSetCookie().length <= 12, what);
  }
});

Deno.test("chunks: without the option, chunk cookies are not read and nothing else is written", async () => {
  // The same encoder: the joined chunks would open, were they read.
  const encoder = exactEncoder();
  const { a, b, c } = await threeChunks(undefined, encoder);
  const app = sizedApp({ secret: SECRET, encoder });
  const res = await app.request("/size", {
    headers: { cookie: `sid.0=${a}; sid.1=${b}; sid.2=${c}` },
  });
  assert.equal(await res.text(), "-");
  const write = await app.request("/size/10", { method: "POST" });
  assert.deepEqual(shape(write), ["sid=10", "sx=1"]);
  const logout = await app.request("/logout", {
    method: "POST",
    headers: { cookie: "sid=v0_xxxxxxxx; sx=1" },
  });
  assert.deepEqual(shape(logout), ["sid:gone", "sx:gone"]);
  // The plain oversize error is the one it always was.
  const over = await app.request("/size/4094", { method: "POST" });
  assert.match(
    await over.text(),
    /^RangeError: session cookie "sid" would be 4097 bytes, over the 4096-byte limit browsers keep/,
  );
});

// cookieChunks with iron-sealed sessions across requests: sizes around
// each boundary, a session that grows and shrinks with the browser's jar
// checked after each response, sign-out, tampering with any chunk,
// responses that cross, a lowered maximum, the verified-cookie cache.
// Transport details (exact split points, header shapes, bombs) are in
// tests/http/chunks_test.ts.
import assert from "node:assert/strict";
import type { SessionEvent, SessionOptions } from "../../mod.ts";
import { Hono } from "hono";
import { session } from "../../mod.ts";
import {
  basicApp,
  Jar,
  SECRET,
  setCookies,
  withFakeTime,
} from "../_helpers.ts";

/** `n` characters of text no compressor would shorten much (base64 of random bytes). */
function noise(n: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(Math.ceil(n * 3 / 4)));
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).slice(0, n);
}

function bigApp(options: SessionOptions) {
  return basicApp(options)
    .post("/fill/:n", (c) => {
      c.session.list = noise(Number(c.req.param("n")));
      return c.text(String(c.session.list));
    })
    .get("/list", (c) => c.text(String(c.session.list ?? "-")));
}

const OPTIONS = { secret: SECRET, cookieChunks: true } as const;
const NAMES = ["sid", "sid.0", "sid.1", "sid.2"];

/** The session cookie's names in the jar, sorted. */
function held(jar: Jar): string[] {
  return [...jar.cookies.keys()].filter((n) => n !== "sx").sort();
}

/** Names a response sets (with a value) and expires. */
function sets(jar: Jar): { set: string[]; gone: string[] } {
  return {
    set: jar.last.filter((c) => c.maxAge !== 0).map((c) => c.name),
    gone: jar.last.filter((c) => c.maxAge === 0).map((c) => c.name).sort(),
  };
}

Deno.test("chunked session: sizes around each boundary, with real seals", async () => {
  const app = bigApp(OPTIONS);
  // How many cookies a session of n characters takes (0: refused).
  const cookies = async (n: number): Promise<number> => {
    const res = await app.request(`/fill/${n}`, { method: "POST" });
    if (res.status !== 200) {
      assert.match(
        await res.text(),
        /^RangeError: session cookie "sid" would be \d+ bytes, over the 3 cookies of 4096 bytes/,
      );
      assert.equal(res.headers.get("set-cookie"), null);
      return 0;
    }
    await res.body?.cancel();
    for (const line of res.headers.getSetCookie()) {
      assert.ok(line.split(";")[0]!.length - 1 <= 4096, line.slice(0, 40));
    }
    const live = setCookies(res).filter((c) =>
      c.maxAge !== 0 && c.name !== "sx"
    );
    return live.length;
  };
  // The largest session that still takes `k` cookies (by bisection).
  const largest = async (k: number, lo: number, hi: number) => {
    assert.equal(await cookies(lo), k);
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (await cookies(mid) === k) lo = mid;
      else hi = mid;
    }
    return lo;
  };
  const one = await largest(1, 100, 4000);
  assert.equal(await cookies(one + 1), 2, "the next size takes two cookies");
  const two = await largest(2, one + 1, 8000);
  assert.equal(await cookies(two + 1), 3);
  const three = await largest(3, two + 1, 12000);
  assert.equal(await cookies(three + 1), 0, "one past the maximum is refused");
  // Each step is about one more cookie's worth of session.
  assert.ok(two - one > 2900 && three - two > 2900, `${one} ${two} ${three}`);
  // The largest one reads back.
  const jar = new Jar(app);
  const [, written] = await jar.text(`/fill/${three}`, { method: "POST" });
  assert.deepEqual(held(jar), ["sid.0", "sid.1", "sid.2"]);
  assert.deepEqual(await jar.text("/list"), [200, written]);
});

Deno.test("chunked session: grows and shrinks across requests; the jar holds exactly one shape after each", async () => {
  const jar = new Jar(bigApp(OPTIONS));
  const steps: [number, string[]][] = [
    [100, ["sid"]],
    [4000, ["sid.0", "sid.1"]],
    [8000, ["sid.0", "sid.1", "sid.2"]],
    [4000, ["sid.0", "sid.1"]],
    [100, ["sid"]],
    [8000, ["sid.0", "sid.1", "sid.2"]],
  ];
  for (const [size, names] of steps) {
    const res = await jar.fetch(`/fill/${size}`, { method: "POST" });
    assert.equal(res.status, 200);
    const written = await res.text();
    assert.equal(res.headers.get("cache-control"), "private, no-store");
    assert.deepEqual(held(jar), names, `after writing ${size}`);
    // Every write states the whole shape: what it sets, and every other
    // name expired, whatever the request carried.
    const { set, gone } = sets(jar);
    assert.deepEqual(set, [...names, "sx"], `${size}`);
    assert.deepEqual(gone, NAMES.filter((n) => !names.includes(n)), `${size}`);
    // A read sees the value and writes nothing.
    assert.deepEqual(await jar.text("/list"), [200, written]);
    assert.equal(jar.last.length, 0, "a read sends no Set-Cookie");
  }
});

Deno.test("chunked session: sign-out expires every chunk, also those the request did not carry", async () => {
  const app = bigApp(OPTIONS);
  const jar = new Jar(app);
  await jar.fetch("/fill/8000", { method: "POST" });
  assert.deepEqual(held(jar), ["sid.0", "sid.1", "sid.2"]);
  await jar.fetch("/logout", { method: "POST" });
  assert.deepEqual([...jar.cookies.keys()], []);
  assert.deepEqual(sets(jar), { set: [], gone: [...NAMES, "sx"].sort() });
  assert.deepEqual(await jar.text("/list"), [200, "-"]);

  // A request that carried only part of a session (the rest was outside
  // its Path, or lost): sign-out still expires every name.
  const partial = await app.request("/logout", {
    method: "POST",
    headers: { cookie: "sid.1=abc; sx=1" },
  });
  assert.deepEqual(
    setCookies(partial).map((c) => `${c.name}:${c.maxAge}`).sort(),
    ["sid.0:0", "sid.1:0", "sid.2:0", "sid:0", "sx:0"],
  );
});

Deno.test("chunked session: tampering with any chunk is no session, never an error", async () => {
  const events: SessionEvent[] = [];
  const app = bigApp({ ...OPTIONS, onEvent: (e) => void events.push(e) });
  const jar = new Jar(app);
  await jar.fetch("/fill/8000", { method: "POST" });
  const chunks = ["sid.0", "sid.1", "sid.2"].map((n) => jar.get(n)!);
  const other = new Jar(app);
  await other.fetch("/fill/8000", { method: "POST" });
  const theirs = ["sid.0", "sid.1", "sid.2"].map((n) => other.get(n)!);
  const header = (parts: string[]) =>
    parts.map((v, i) => `sid.${i}=${v}`).join("; ");
  const flip = (v: string, at: number) =>
    v.slice(0, at) + (v[at] === "A" ? "B" : "A") + v.slice(at + 1);
  const variants: string[][] = [];
  for (let i = 0; i < 3; i++) {
    for (const at of [0, 7, 1000, chunks[i]!.length - 1]) {
      variants.push(chunks.map((v, j) => j === i ? flip(v, at) : v));
    }
    // One chunk from another session of the same app.
    variants.push(chunks.map((v, j) => (j === i ? theirs[i]! : v)));
    // One chunk cut short.
    variants.push(chunks.map((v, j) => (j === i ? v.slice(0, -1) : v)));
  }
  for (const parts of variants) {
    events.length = 0;
    const res = await app.request("/list", {
      headers: { cookie: header(parts) },
    });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "-");
    assert.equal(res.headers.get("set-cookie"), null);
    // "malformed" when the flip hits the seal's own prefix.
    assert.equal(events.length, 1);
    assert.match(
      JSON.stringify(events[0]),
      /"invalid-cookie".*"(bad-seal|malformed)"/,
    );
  }
  // The untouched chunks still open, in either session.
  const res = await app.request("/list", {
    headers: { cookie: header(chunks) },
  });
  assert.notEqual(await res.text(), "-");
});

Deno.test("chunked session: two responses that cross leave the jar holding one of them, whole", async () => {
  const app = bigApp(OPTIONS);
  const start = new Jar(app);
  await start.fetch("/fill/4000", { method: "POST" });
  const cookie = start.header();
  // Two requests sent with the same cookies: one grows the session, one
  // shrinks it back to a single cookie.
  const grow = await app.request("/fill/8000", {
    method: "POST",
    headers: { cookie },
  });
  const grown = await grow.text();
  const shrink = await app.request("/fill/100", {
    method: "POST",
    headers: { cookie },
  });
  const shrunk = await shrink.text();
  for (
    const [order, expected, names] of [
      [[grow, shrink], shrunk, ["sid"]],
      [[shrink, grow], grown, ["sid.0", "sid.1", "sid.2"]],
    ] as const
  ) {
    const jar = new Jar(app);
    for (const [name, value] of start.cookies) jar.cookies.set(name, value);
    for (const res of order) {
      for (const c of setCookies(res)) {
        if (c.maxAge === 0) jar.cookies.delete(c.name);
        else jar.cookies.set(c.name, c.value);
      }
    }
    assert.deepEqual(held(jar), names);
    assert.deepEqual(await jar.text("/list"), [200, expected]);
  }
});

Deno.test("chunked session: after the maximum is lowered, the next write clears the chunks beyond it", async () => {
  const events: SessionEvent[] = [];
  const wide = bigApp({ secret: SECRET, cookieChunks: 5 });
  const jar = new Jar(wide);
  await jar.fetch("/fill/13000", { method: "POST" });
  assert.deepEqual(held(jar), ["sid.0", "sid.1", "sid.2", "sid.3", "sid.4"]);
  const narrow = bigApp({ ...OPTIONS, onEvent: (e) => void events.push(e) });
  const after = new Jar(narrow);
  for (const [name, value] of jar.cookies) after.cookies.set(name, value);
  assert.deepEqual(await after.text("/list"), [200, "-"]);
  assert.deepEqual(events, [{ type: "invalid-cookie", reason: "oversized" }]);
  // Signing in again: the write expires sid.3 and sid.4, which it carried.
  await after.fetch("/login?user=ada", { method: "POST" });
  assert.ok(
    sets(after).gone.includes("sid.3") && sets(after).gone.includes("sid.4"),
  );
  assert.deepEqual(held(after), ["sid"]);
  assert.deepEqual(await after.text("/read"), [200, "ada"]);
});

Deno.test("chunked session: the verified-cookie cache is keyed by the joined value", async () => {
  const issuer = new Jar(bigApp(OPTIONS));
  const [, written] = await issuer.text("/fill/8000", { method: "POST" });
  const [a, b, c] = ["sid.0", "sid.1", "sid.2"].map((n) => issuer.get(n)!);
  // Another instance with the same secret: it has not seen this cookie.
  const app = bigApp(OPTIONS);
  const verify = crypto.subtle.verify;
  let verified = 0;
  crypto.subtle.verify = function (...args: Parameters<typeof verify>) {
    verified++;
    return verify.apply(this, args);
  };
  try {
    const read = async (cookie: string) =>
      await (await app.request("/list", { headers: { cookie } })).text();
    assert.equal(await read(`sid.0=${a}; sid.1=${b}; sid.2=${c}`), written);
    assert.equal(verified, 1, "the first read checks the seal");
    assert.equal(await read(`sid.2=${c}; sid.1=${b}; sid.0=${a}`), written);
    // The same value cut elsewhere is the same value: transport only.
    const joined = a! + b! + c!;
    const resplit = `sid.0=${joined.slice(0, 4000)}; sid.1=${
      joined.slice(4000, 8000)
    }; sid.2=${joined.slice(8000)}`;
    assert.equal(await read(resplit), written);
    assert.equal(verified, 1, "then the joined value is a cache hit");
    const flipped = b!.slice(0, 100) + (b![100] === "A" ? "B" : "A") +
      b!.slice(101);
    assert.equal(await read(`sid.0=${a}; sid.1=${flipped}; sid.2=${c}`), "-");
    assert.equal(verified, 2, "anything else is checked, and refused");
  } finally {
    crypto.subtle.verify = verify;
  }
});

Deno.test("chunked session: a nested session() whose cookie is named like a chunk is refused", async () => {
  const app = new Hono()
    .use(session({ secret: SECRET, cookieChunks: true }))
    .use(
      session({ secret: SECRET, cookieName: "sid.0", existsCookieName: "x" }),
    )
    .get("/", (c) => c.text("ok"));
  app.onError((err, c) => c.text(`${err.name}: ${err.message}`, 500));
  const res = await app.request("/");
  assert.equal(res.status, 500);
  assert.match(
    await res.text(),
    /^TypeError: two session\(\) middlewares run on this request and both use the cookie "sid\.0"/,
  );
});

Deno.test("chunked session: a write that changes neither the value nor the deadline sends nothing, as before", async () => {
  // A deterministic encoder: the same record gives the same value, so the
  // write-skip (same value, same deadline) can apply to a chunked value.
  const encoder = {
    encode: (record: Record<string, unknown>) =>
      "j" + btoa(JSON.stringify(record)).replaceAll("=", "_"),
    decode: (value: string) =>
      value.startsWith("j")
        ? JSON.parse(atob(value.slice(1).replaceAll("_", "=")))
        : null,
  };
  await withFakeTime(async (clock) => {
    const app = bigApp({ secret: SECRET, encoder, cookieChunks: true })
      .post("/renew", (c) => {
        c.session.renew();
        return c.text("ok");
      });
    const jar = new Jar(app);
    const [, written] = await jar.text("/fill/6000", { method: "POST" });
    assert.deepEqual(held(jar), ["sid.0", "sid.1"]);
    // renew() at the same instant: same record, same value, same deadline.
    await jar.fetch("/renew", { method: "POST" });
    assert.equal(jar.last.length, 0, "nothing to send");
    clock.tick(1000);
    await jar.fetch("/renew", { method: "POST" });
    assert.deepEqual(sets(jar).set, ["sid.0", "sid.1", "sx"]);
    assert.deepEqual(await jar.text("/list"), [200, written]);
  });
});

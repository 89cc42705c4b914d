// The compression option: when a session is compressed, how the seal marks
// it, what reading accepts, and compression bombs sealed with the real
// secret (someone who has it must still not be able to make a small cookie
// expand into a large allocation).
import assert from "node:assert/strict";
import type { SessionEvent, SessionOptions } from "../../mod.ts";
import { Keyring } from "../../_cookie_mode/keyring.ts";
import { compress, EXPANDED_LIMIT } from "../../_cookie_mode/compression.ts";
import { sealRecord } from "../../_cookie_mode/seal.ts";
import { basicApp, Jar, SECRET } from "../_helpers.ts";

const encoder = new TextEncoder();

/** Text that compresses well: a cart of similar items. */
function cart(n: number): string {
  let text = "";
  for (let i = 0; text.length < n; i++) {
    text += `item ${i}: blue cotton t-shirt, size M, qty 1; `;
  }
  return text.slice(0, n);
}

/** `n` characters that compress poorly (base64 of random bytes). */
function noise(n: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(Math.ceil(n * 3 / 4)));
  return btoa(String.fromCharCode(...bytes)).slice(0, n);
}

function app(options: SessionOptions) {
  return basicApp(options)
    .post("/put", async (c) => {
      c.session.list = await c.req.text();
      return c.text("ok");
    })
    .get("/list", (c) => c.text(String(c.session.list ?? "-")));
}

/** The bytes an iron seal made for the cookie "sid" with SECRET holds. */
async function payloadOf(sealed: string): Promise<Uint8Array> {
  const key = await new Keyring([SECRET], "cookie:sid").newest();
  const bytes = await key.iron.openBytes(sealed);
  assert.ok(bytes, "a genuine seal");
  return bytes;
}

/** Seals `payload` as this app would, with the real secret. */
async function seal(payload: Uint8Array<ArrayBuffer>): Promise<string> {
  const key = await new Keyring([SECRET], "cookie:sid").newest();
  return await key.iron.seal(payload);
}

/** The mark byte of `format`, then `bytes` compressed with it. */
async function compressed(
  bytes: Uint8Array<ArrayBuffer>,
  format: CompressionFormat,
): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([bytes]).stream().pipeThrough(
    new CompressionStream(format),
  );
  const out = new Uint8Array(await new Response(stream).arrayBuffer());
  return new Uint8Array([format === "gzip" ? 2 : 1, ...out]);
}

/** A live session record holding `x`, as JSON text. */
function record(x: string): string {
  const now = Date.now();
  return `{"data":{"list":${JSON.stringify(x)}},"expires":${
    now + 60_000
  },"created":${now}}`;
}

/** A Cookie header carrying `value` as the app would: plain or in chunks. */
function cookieFor(value: string): string {
  if (value.length <= 4093) return `sid=${value}`;
  const parts: string[] = [];
  for (let i = 0; i * 4091 < value.length; i++) {
    parts.push(`sid.${i}=${value.slice(i * 4091, (i + 1) * 4091)}`);
  }
  return parts.join("; ");
}

Deno.test("compression: a session that fits one cookie is sealed as it is; a bigger one is compressed and reads back", async () => {
  for (const format of ["deflate-raw", "gzip"] as const) {
    const jar = new Jar(app({ secret: SECRET, compression: format }));
    await jar.fetch("/put", { method: "POST", body: cart(500) });
    assert.equal((await payloadOf(jar.get("sid")!))[0], "{".charCodeAt(0));
    // 8,000 characters: far over one cookie as they are.
    const text = cart(8000);
    const res = await jar.fetch("/put", { method: "POST", body: text });
    assert.equal(res.status, 200);
    assert.deepEqual(jar.last.map((c) => c.name), ["sid", "sx"]);
    assert.ok(jar.get("sid")!.length < 2000, `${jar.get("sid")!.length}`);
    assert.equal(
      (await payloadOf(jar.get("sid")!))[0],
      format === "gzip" ? 2 : 1,
      "the mark inside the seal names the format",
    );
    assert.deepEqual(await jar.text("/list"), [200, text]);
  }
});

Deno.test("compression: kept only when it makes the seal shorter", async () => {
  // Bytes that do not compress: nothing comes back.
  const random = crypto.getRandomValues(new Uint8Array(3000));
  assert.equal(await compress(random, "deflate-raw"), undefined);
  assert.ok(await compress(encoder.encode(cart(3000)), "deflate-raw"));
  // A tiny session, compression tried anyway (from 0 bytes): deflate saves
  // 4 of its 73 bytes, but AES-CBC pads both to 80, so it is sealed plain.
  const keys = new Keyring([SECRET], "cookie:sid");
  const meta = { expires: 1893456000000, created: 1893452400000 };
  const data = '{"t":"abcdefgh"}';
  const json =
    `{"data":${data},"expires":${meta.expires},"created":${meta.created}}`;
  assert.equal(json.length, 73);
  assert.equal(
    (await compress(encoder.encode(json), "deflate-raw"))?.length,
    69,
  );
  const tiny = await sealRecord(meta, data, keys, undefined, {
    format: "deflate-raw",
    above: 0,
  });
  assert.equal((await payloadOf(tiny))[0], "{".charCodeAt(0));
  const big = await sealRecord(
    meta,
    JSON.stringify({ list: cart(3000) }),
    keys,
    undefined,
    { format: "deflate-raw", above: 0 },
  );
  assert.equal((await payloadOf(big))[0], 1);
});

Deno.test("compression and chunks: a 12 KB session is compressed, then spread over the cookies it still needs", async () => {
  const jar = new Jar(
    app({ secret: SECRET, compression: "deflate-raw", cookieChunks: true }),
  );
  // Half tokens (compress poorly), half cart (compresses well).
  const text = noise(6000) + cart(6000);
  await jar.fetch("/put", { method: "POST", body: text });
  const names = jar.last.filter((c) => c.maxAge !== 0).map((c) => c.name);
  assert.deepEqual(names, ["sid.0", "sid.1", "sx"]);
  const joined = jar.get("sid.0")! + jar.get("sid.1")!;
  assert.equal((await payloadOf(joined))[0], 1);
  assert.deepEqual(await jar.text("/list"), [200, text]);
  // Without compression the same session takes more cookies.
  const plain = new Jar(app({ secret: SECRET, cookieChunks: 5 }));
  await plain.fetch("/put", { method: "POST", body: text });
  assert.equal(
    plain.last.filter((c) => /^sid\.\d$/.test(c.name) && c.maxAge !== 0).length,
    4,
  );
});

Deno.test("compression: turning it off ends no session; compressed seals are still read", async () => {
  const jar = new Jar(app({ secret: SECRET, compression: "gzip" }));
  const text = cart(8000);
  await jar.fetch("/put", { method: "POST", body: text });
  assert.equal((await payloadOf(jar.get("sid")!))[0], 2);
  const without = new Jar(app({ secret: SECRET }));
  without.cookies.set("sid", jar.get("sid")!);
  assert.deepEqual(await without.text("/list"), [200, text]);
});

Deno.test("compression: a session over 64 KiB of JSON fails the save with a clear error", async () => {
  const res = await app({ secret: SECRET, compression: "deflate-raw" })
    .request("/put", { method: "POST", body: cart(70_000) });
  assert.equal(res.status, 500);
  assert.match(
    await res.text(),
    /^RangeError: the session is \d+ bytes of JSON, over the 65536 bytes a compressed session may expand to; store less in the session, or use a store/,
  );
  assert.equal(res.headers.get("set-cookie"), null);
});

/**
 * Runs `fn` with DecompressionStream replaced by one that counts the bytes
 * read from it, and the largest single read.
 */
async function counting(
  fn: () => Promise<void>,
): Promise<{ read: number; largest: number }> {
  const Original = globalThis.DecompressionStream;
  const seen = { read: 0, largest: 0 };
  class Counting extends Original {
    readonly #out: ReadableStream<Uint8Array<ArrayBuffer>>;
    constructor(format: CompressionFormat) {
      super(format);
      const reader = super.readable.getReader();
      this.#out = new ReadableStream({
        async pull(controller) {
          const { done, value } = await reader.read();
          if (done) return controller.close();
          seen.read += value.byteLength;
          seen.largest = Math.max(seen.largest, value.byteLength);
          controller.enqueue(value);
        },
        cancel: (reason) => reader.cancel(reason),
      }, { highWaterMark: 0 });
    }
    override get readable(): ReadableStream<Uint8Array<ArrayBuffer>> {
      return this.#out;
    }
  }
  globalThis.DecompressionStream = Counting;
  try {
    await fn();
  } finally {
    globalThis.DecompressionStream = Original;
  }
  return seen;
}

Deno.test("compression bombs sealed with the real secret are no session, and expand no further than about 1 MiB", async () => {
  const cases: [string, number, CompressionFormat, SessionOptions][] = [
    // 2 MB of JSON in one cookie (about 2 KB compressed).
    ["one cookie", 2_000_000, "deflate-raw", {}],
    ["one cookie, gzip", 2_000_000, "gzip", {}],
    // 8 MB of JSON in three chunks: what a leaked secret could do.
    ["three chunks", 8_000_000, "deflate-raw", { cookieChunks: true }],
    // Compression off: sealed cookies are still read, and still bounded.
    ["compression off", 2_000_000, "deflate-raw", { compression: undefined }],
  ];
  for (const [what, size, format, extra] of cases) {
    const events: SessionEvent[] = [];
    const target = app({
      secret: SECRET,
      compression: "deflate-raw",
      onEvent: (e) => void events.push(e),
      ...extra,
    });
    const bomb = await seal(
      await compressed(encoder.encode(record("a".repeat(size))), format),
    );
    const cookie = cookieFor(bomb);
    assert.ok(cookie.length < 4096 * 3, `${what}: ${cookie.length}`);
    const seen = await counting(async () => {
      const res = await target.request("/list", { headers: { cookie } });
      assert.equal(res.status, 200, what);
      assert.equal(await res.text(), "-", what);
      assert.equal(res.headers.get("set-cookie"), null, what);
    });
    assert.deepEqual(
      events,
      [{ type: "invalid-cookie", reason: "oversized" }],
      what,
    );
    assert.ok(
      seen.read < EXPANDED_LIMIT + 1.1 * 2 ** 20,
      `${what}: ${seen.read}`,
    );
    assert.ok(seen.largest < 1.1 * 2 ** 20, `${what}: ${seen.largest}`);
    // It stopped at the first read past the limit.
    assert.ok(
      seen.read <= EXPANDED_LIMIT + seen.largest,
      `${what}: ${seen.read}`,
    );
  }
});

Deno.test("compression: a sealed payload expanding to exactly the limit opens; one byte more does not", async () => {
  const target = app({ secret: SECRET, compression: "deflate-raw" });
  const exact = (length: number) => {
    const empty = record("").length;
    return record("a".repeat(length - empty));
  };
  for (
    const [length, expected] of [[EXPANDED_LIMIT, true], [
      EXPANDED_LIMIT + 1,
      false,
    ]] as const
  ) {
    const json = exact(length);
    assert.equal(encoder.encode(json).length, length);
    const cookie = cookieFor(
      await seal(await compressed(encoder.encode(json), "deflate-raw")),
    );
    const res = await target.request("/list", { headers: { cookie } });
    const body = await res.text();
    assert.equal(body !== "-", expected, `${length}`);
  }
});

Deno.test("compression: a genuine seal holding a broken compressed payload is no session", async () => {
  const events: SessionEvent[] = [];
  const target = app({
    secret: SECRET,
    compression: "gzip",
    onEvent: (e) => void events.push(e),
  });
  const good = await compressed(
    encoder.encode(record("x".repeat(100))),
    "gzip",
  );
  const payloads: Uint8Array<ArrayBuffer>[] = [
    new Uint8Array([1, 0xff, 0xff, 0xff, 1, 2, 3]), // not DEFLATE
    good.slice(0, -4), // gzip cut short
    new Uint8Array([2, ...good.slice(1, -1), good.at(-1)! ^ 1]), // bad checksum
    await compressed(encoder.encode("not json"), "deflate-raw"),
    await compressed(encoder.encode('{"data":1,"expires":1}'), "deflate-raw"),
  ];
  for (const payload of payloads) {
    events.length = 0;
    const res = await target.request("/list", {
      headers: { cookie: `sid=${await seal(payload)}` },
    });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "-");
    assert.deepEqual(events, [{
      type: "invalid-cookie",
      reason: "bad-record",
    }]);
  }
  // The good one opens.
  const res = await target.request("/list", {
    headers: { cookie: `sid=${await seal(good)}` },
  });
  assert.equal(await res.text(), "x".repeat(100));
});

// The 4096-byte limit of one cookie (name and value, as sent), at exactly
// its boundary: a session cookie of exactly 4096 bytes is sent and read
// back, one byte more fails the save and sends nothing. With a prefix, a
// long cookie name, a value that grows when percent-encoded, and a long
// name beside compression (which must count the name to know when to
// compress). Chunk boundaries are in chunks_test.ts.
import assert from "node:assert/strict";
import { Hono } from "hono";
import { session, type SessionOptions } from "../../mod.ts";
import {
  exactEncoder,
  isLifecycle,
  Jar,
  SECRET,
  sizedApp,
} from "../_helpers.ts";

/** Each Set-Cookie line as `name` and its name+value length. */
function pairs(res: Response): [string, number][] {
  return res.headers.getSetCookie().map((line) => {
    const pair = line.split(";")[0]!;
    return [pair.slice(0, pair.indexOf("=")), pair.length - 1];
  });
}

for (
  const [what, options, wireName] of [
    ["sid", {}, "sid"],
    ["a __Host- prefix", {
      cookieOptions: { prefix: "host" as const },
    }, "__Host-sid"],
    [
      "a 1,000-character name",
      { cookieName: "n".repeat(1000) },
      "n".repeat(
        1000,
      ),
    ],
  ] as const
) {
  Deno.test(`cookie limits (${what}): a session cookie of exactly 4096 bytes is sent and read back; one byte more fails the save and sends nothing`, async () => {
    const app = sizedApp({
      secret: SECRET,
      encoder: exactEncoder(),
      ...options,
    });
    const fits = 4096 - wireName.length;
    const jar = new Jar(app);
    const res = await jar.fetch(`/size/${fits}`, { method: "POST" });
    assert.equal(res.status, 200, await res.clone().text());
    assert.deepEqual(pairs(res)[0], [wireName, 4096]);
    assert.deepEqual(await jar.text("/size"), [200, String(fits)]);

    const over = await jar.fetch(`/size/${fits + 1}`, { method: "POST" });
    assert.equal(over.status, 500);
    assert.match(
      await over.text(),
      new RegExp(
        `^RangeError: session cookie "${wireName}" would be 4097 bytes, over the 4096-byte limit`,
      ),
    );
    assert.equal(over.headers.get("set-cookie"), null);
    // The cookie the browser holds still opens.
    assert.deepEqual(await jar.text("/size"), [200, String(fits)]);
  });
}

Deno.test("cookie limits: a cookie of exactly 4096 bytes that arrives is read; one of 4097 is refused as oversized", async () => {
  const events: string[] = [];
  const encoder = exactEncoder();
  const app = sizedApp({
    secret: SECRET,
    encoder,
    onEvent: (e) =>
      void (!isLifecycle(e) && events.push("reason" in e ? e.reason : e.type)),
  });
  const jar = new Jar(app);
  await jar.fetch("/size/4093", { method: "POST" });
  const value = jar.get("sid")!;
  assert.equal(`sid=${value}`.length, 4097); // 4096 without the "="
  assert.deepEqual(await jar.text("/size"), [200, "4093"]);
  // One character more than any cookie this middleware writes.
  const res = await app.request("/size", {
    headers: { cookie: `sid=${value}x` },
  });
  assert.equal(await res.text(), "-");
  assert.deepEqual(events, ["oversized"]);
});

Deno.test("cookie limits: the limit counts the value as sent, percent-encoded", async () => {
  const app = sizedApp({ secret: SECRET, encoder: exactEncoder() });
  // "é" is sent as %C3%A9: 1,000 characters of value are 5,985 bytes.
  const over = await app.request("/size/1000?escaped", { method: "POST" });
  assert.equal(over.status, 500);
  assert.match(await over.text(), /would be 5988 bytes/);
  assert.equal(over.headers.get("set-cookie"), null);
  // 3 plain characters and 681 of "é": 3 + 4,086 = 4,089 bytes, and "sid".
  const fits = await app.request("/size/684?escaped", { method: "POST" });
  assert.equal(fits.status, 200);
  assert.deepEqual(pairs(fits)[0], ["sid", 4092]);
});

Deno.test("cookie limits: with compression, a long cookie name counts: a session that fits one cookie only compressed is compressed", async () => {
  const name = "n".repeat(2000);
  const app = new Hono()
    .use(session<{ text?: string }>({
      secret: SECRET,
      cookieName: name,
      compression: "deflate-raw",
    }))
    .post("/put", (c) => {
      c.session.text = "all work and no play ".repeat(100); // 2,100 bytes
      return c.text("ok");
    })
    .get("/get", (c) => c.text(String(c.session.text?.length ?? "-")));
  app.onError((err, c) => c.text(`${err.name}: ${err.message}`, 500));
  // Sealed as it is, the session would take about 3 KB: one cookie's worth
  // with the name "sid", but not beside this 2,000-character name.
  const jar = new Jar(app);
  const res = await jar.fetch("/put", { method: "POST" });
  assert.equal(res.status, 200, await res.clone().text());
  const [[sent, size]] = pairs(res) as [[string, number]];
  assert.equal(sent, name);
  assert.ok(size <= 4096 && size < 2000 + 1000, `${size} bytes`);
  assert.deepEqual(await jar.text("/get"), [200, "2100"]);
});

Deno.test("cookie limits: with compression, a session whose plain seal fills one cookie exactly is sealed as it is", async () => {
  const put = (options: SessionOptions) => {
    const app = new Hono()
      .use(session<{ text?: string }>({ secret: SECRET, ...options }))
      .post("/put", (c) => {
        c.session.text = "a".repeat(2500); // compresses very well
        return c.text("ok");
      })
      .get("/get", (c) => c.text(String(c.session.text?.length ?? "-")));
    app.onError((err, c) => c.text(`${err.name}: ${err.message}`, 500));
    return app;
  };
  // The plain seal's length, which depends only on the JSON's length.
  const plain = await put({}).request("/put", { method: "POST" });
  const [[, plainSize]] = pairs(plain) as [[string, number]];
  const sealed = plainSize - "sid".length;
  // A cookie name that leaves exactly that much room.
  const name = "n".repeat(4096 - sealed);
  const jar = new Jar(put({ cookieName: name, compression: "deflate-raw" }));
  const res = await jar.fetch("/put", { method: "POST" });
  assert.deepEqual(pairs(res)[0], [name, 4096], "not compressed");
  assert.deepEqual(await jar.text("/get"), [200, "2500"]);
});

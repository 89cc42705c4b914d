// A cookie-mode session of 12 KB in a real browser: headless Chromium
// (Debian's `chromium`), driven by playwright-core, against a test page
// served on a loopback port with compression and cookieChunks. The session
// is compressed, spread over chunk cookies the browser keeps (it drops any
// cookie over 4096 bytes), survives reloads, shrinks back to one cookie and
// grows again, and sign-out leaves nothing. `deno task e2e`; skipped (and
// said so) without Chromium, a failure under CI=true.
import assert from "node:assert/strict";
import { type Browser, chromium } from "playwright-core";
import { Hono } from "hono";
import { session } from "../mod.ts";
import {
  CHROMIUM_FLAGS,
  findChromium,
  missingChromium,
} from "../support/chromium.ts";

const CHROMIUM = await findChromium();
const MISSING = missingChromium();
if (CHROMIUM === undefined && Deno.env.get("CI") === "true") {
  Deno.test("e2e: Chromium is required under CI=true (large session)", () => {
    throw new Error(`CI=true and ${MISSING}`);
  });
} else if (CHROMIUM === undefined) {
  console.warn(`e2e skipped: ${MISSING}.`);
}

interface Big {
  visits?: number;
  /** Access and refresh tokens: random, so they compress poorly. */
  tokens?: string[];
  /** A basket: repetitive, so it compresses well. */
  basket?: { sku: string; name: string; qty: number }[];
  /** A checksum of tokens and basket, to see that nothing was lost. */
  sum?: number;
}

function checksum(value: unknown): number {
  const text = JSON.stringify(value);
  let sum = 0;
  for (let i = 0; i < text.length; i++) {
    sum = (sum * 31 + text.charCodeAt(i)) >>> 0;
  }
  return sum;
}

function token(bytes: number): string {
  return btoa(
    String.fromCharCode(...crypto.getRandomValues(new Uint8Array(bytes))),
  );
}

/** The test page: a session you can fill to 12 KB, shrink and end. */
function testPage() {
  return new Hono()
    .use(
      session<Big>({
        secret: "e2e-secret-e2e-secret-e2e-secret-0001",
        compression: "deflate-raw",
        cookieChunks: true,
      }),
    )
    .get("/", (c) => {
      const s = c.session;
      if (s.tokens) s.visits = (s.visits ?? 0) + 1;
      const intact = s.tokens && s.sum === checksum([s.tokens, s.basket]);
      return c.html(`<!doctype html><title>large session</title>
        <p>Session JSON: <span id="size">${
        JSON.stringify({ ...s }).length
      }</span> bytes;
        visits <span id="visits">${s.visits ?? 0}</span>;
        <span id="intact">${intact ? "intact" : "none"}</span></p>
        <form method="post" action="/fill"><button id="fill">Fill</button></form>
        <form method="post" action="/shrink"><button id="shrink">Shrink</button></form>
        <form method="post" action="/logout"><button id="logout">Sign out</button></form>`);
    })
    .post("/fill", (c) => {
      // 12.5 KB of JSON: 6 KB of tokens, 6.5 KB of basket.
      c.session.tokens = [token(1500), token(1500), token(1500)];
      c.session.basket = Array.from({ length: 100 }, (_, i) => ({
        sku: `SKU-${10000 + i}`,
        name: `Blue cotton t-shirt, size ${"SML"[i % 3]}`,
        qty: 1 + (i % 3),
      }));
      c.session.sum = checksum([c.session.tokens, c.session.basket]);
      c.session.visits = 0;
      return c.redirect("/", 303);
    })
    .post("/shrink", (c) => {
      c.session.tokens = [token(30)];
      c.session.basket = [];
      c.session.sum = checksum([c.session.tokens, c.session.basket]);
      return c.redirect("/", 303);
    })
    .post("/logout", (c) => {
      c.session = null;
      return c.redirect("/", 303);
    });
}

Deno.test({
  name:
    "e2e: a 12 KB cookie-mode session in headless Chromium, compressed and chunked, across reloads" +
    (CHROMIUM === undefined ? " (skipped: apt-get install -y chromium)" : ""),
  ignore: CHROMIUM === undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      testPage().fetch,
    );
    const url = `http://localhost:${server.addr.port}/`;
    let browser: Browser | undefined;
    try {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [...CHROMIUM_FLAGS],
      });
      const context = await browser.newContext();
      const page = await context.newPage();
      const names = async () =>
        (await context.cookies()).map((c) => c.name).sort();

      await page.goto(url);
      assert.equal(await page.textContent("#intact"), "none");
      assert.deepEqual(await names(), []);

      // Fill: 12 KB of session, compressed, in chunk cookies.
      await page.click("#fill");
      await page.waitForSelector("#intact");
      const size = Number(await page.textContent("#size"));
      assert.ok(size >= 12_000 && size < 13_000, `${size} bytes`);
      assert.equal(await page.textContent("#intact"), "intact");
      assert.equal(await page.textContent("#visits"), "1");
      assert.deepEqual(await names(), ["sid.0", "sid.1", "sx"]);
      // The first chunk is as full as a cookie may be: Chromium keeps it.
      const first = (await context.cookies()).find((c) => c.name === "sid.0")!;
      assert.equal(first.name.length + first.value.length, 4096);
      for (const cookie of await context.cookies()) {
        assert.ok(cookie.name.length + cookie.value.length <= 4096);
        if (cookie.name !== "sx") {
          assert.equal(cookie.httpOnly, true, cookie.name);
          assert.equal(cookie.sameSite, "Lax", cookie.name);
        }
      }
      // JavaScript sees the exists cookie only.
      assert.equal(await page.evaluate("document.cookie"), "sx=1");

      // Reloads: every one reads the whole session and writes it back.
      for (let visit = 2; visit <= 4; visit++) {
        await page.reload();
        assert.equal(await page.textContent("#intact"), "intact");
        assert.equal(await page.textContent("#visits"), String(visit));
        assert.deepEqual(await names(), ["sid.0", "sid.1", "sx"]);
      }

      // Shrink: back to one cookie under the plain name, chunks gone.
      await page.click("#shrink");
      await page.waitForSelector("#intact");
      assert.equal(await page.textContent("#intact"), "intact");
      assert.deepEqual(await names(), ["sid", "sx"]);
      await page.reload();
      assert.equal(await page.textContent("#intact"), "intact");

      // Grow again: chunks again, the plain cookie gone.
      await page.click("#fill");
      await page.waitForSelector("#intact");
      assert.equal(await page.textContent("#intact"), "intact");
      assert.deepEqual(await names(), ["sid.0", "sid.1", "sx"]);

      // Sign out: nothing left.
      await page.click("#logout");
      await page.waitForSelector("#intact");
      assert.equal(await page.textContent("#intact"), "none");
      assert.deepEqual(await names(), []);
    } finally {
      await browser?.close();
      await server.shutdown();
    }
  },
});

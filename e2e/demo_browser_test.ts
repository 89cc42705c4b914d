// The demo in a real browser: headless Chromium (Debian's `chromium`),
// driven by playwright-core, against the demo served on a loopback port.
// `deno task e2e`. Outside CI, a machine without Chromium skips it and
// says how to install it; under CI=true a missing Chromium is a failure.
import assert from "node:assert/strict";
import { type Browser, chromium } from "playwright-core";
import { startDemo } from "../support/server_process.ts";
import {
  CHROMIUM_FLAGS,
  findChromium,
  missingChromium,
} from "../support/chromium.ts";

const CHROMIUM = await findChromium();
const SHOTS = new URL("../.e2e/", import.meta.url).pathname;
const MISSING = missingChromium();
if (CHROMIUM === undefined && Deno.env.get("CI") === "true") {
  Deno.test("e2e: Chromium is required under CI=true", () => {
    throw new Error(`CI=true and ${MISSING}`);
  });
} else if (CHROMIUM === undefined) {
  console.warn(`e2e skipped: ${MISSING}.`);
}

Deno.test({
  name: "e2e: the demo in headless Chromium, across a restart of the server" +
    (CHROMIUM === undefined ? " (skipped: apt-get install -y chromium)" : ""),
  ignore: CHROMIUM === undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const cwd = await Deno.makeTempDir({ prefix: "hono-session-e2e-" });
    let server = await startDemo(cwd);
    // The same port after the restart, so the browser's cookies apply.
    const port = new URL(server.url).port;
    const url = `http://localhost:${port}/`;
    let browser: Browser | undefined;
    try {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [...CHROMIUM_FLAGS],
      });
      const context = await browser.newContext();
      const page = await context.newPage();

      // Anonymous: the sign-in form, no session.
      await page.goto(url);
      assert.equal(await page.locator("#login").count(), 1);
      assert.deepEqual(await context.cookies(), []);

      // Sign in through the form; the flash shows exactly once.
      await page.fill("#name", "Ada Lovelace");
      await page.click("#login");
      await page.waitForSelector("#user");
      assert.equal(await page.textContent("#user"), "Ada Lovelace");
      assert.equal(await page.textContent("#notice"), "Welcome, Ada Lovelace!");
      assert.equal(await page.textContent("#visits"), "1");
      await Deno.mkdir(SHOTS, { recursive: true });
      await page.screenshot({ path: `${SHOTS}logged-in.png` });
      await page.reload();
      assert.equal(
        await page.locator("#notice").count(),
        0,
        "the notice shows once",
      );
      await page.reload();
      assert.equal(
        await page.textContent("#visits"),
        "3",
        "the counter survives reloads",
      );

      // JavaScript sees the exists cookie, never the session cookie.
      const visible = String(await page.evaluate("document.cookie"));
      assert.match(visible, /(^|; )sx=1(;|$)/);
      assert.doesNotMatch(visible, /sid=/);
      const cookies = await context.cookies();
      const sid = cookies.find((c) => c.name === "sid")!;
      assert.equal(sid.httpOnly, true);
      assert.equal(sid.sameSite, "Lax");

      // A session cookie forged in the browser is refused.
      const forger = await browser.newContext();
      await forger.addCookies([
        { name: "sid", value: sid.value.slice(0, -2) + "xx", url },
        { name: "sx", value: "1", url },
      ]);
      const forgedPage = await forger.newPage();
      await forgedPage.goto(url);
      assert.equal(await forgedPage.locator("#user").count(), 0);
      assert.equal(await forgedPage.locator("#login").count(), 1);
      await forger.close();

      // Restart the demo: the session lives on in Deno KV.
      await server.stop();
      server = await startDemo(cwd, port);
      await page.reload();
      assert.equal(
        await page.textContent("#user"),
        "Ada Lovelace",
        "still signed in after a restart",
      );
      assert.equal(await page.textContent("#visits"), "4");

      // Sign out: both cookies are gone.
      await page.click("#logout");
      await page.waitForSelector("#login");
      assert.equal(await page.textContent("#notice"), "You are signed out.");
      assert.deepEqual((await context.cookies()).map((c) => c.name), []);
      assert.equal(await page.evaluate("document.cookie"), "");
    } finally {
      await browser?.close();
      await server.stop();
      await Deno.remove(cwd, { recursive: true });
    }
  },
});

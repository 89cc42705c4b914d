// The demo in a real browser: headless Chromium (Debian's `chromium`),
// driven by playwright-core, against the demo served on a loopback port.
// `deno task e2e`. Outside CI, a machine without Chromium skips it and
// says how to install it; under CI=true a missing Chromium is a failure.
import assert from "node:assert/strict";
import { type Browser, type BrowserContext, chromium } from "playwright-core";
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

Deno.test({
  name:
    "e2e: remember me survives a browser restart, a browser-session sign-in does not; sign out other devices" +
    (CHROMIUM === undefined ? " (skipped: apt-get install -y chromium)" : ""),
  ignore: CHROMIUM === undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const cwd = await Deno.makeTempDir({ prefix: "hono-session-e2e-" });
    const server = await startDemo(cwd);
    const url = `http://localhost:${new URL(server.url).port}/`;
    // Two browsers with profiles on disk, so that closing and starting one
    // again is a real browser restart: Chromium keeps persistent cookies
    // and drops browser-session ones.
    const profiles = { laptop: `${cwd}/laptop`, phone: `${cwd}/phone` };
    const open = (dir: string) =>
      chromium.launchPersistentContext(dir, {
        executablePath: CHROMIUM,
        args: [...CHROMIUM_FLAGS],
      });
    const contexts: BrowserContext[] = [];
    try {
      const signIn = async (dir: string, remember: boolean) => {
        const context = await open(dir);
        contexts.push(context);
        const page = await context.newPage();
        await page.goto(url);
        await page.fill("#name", "Ada");
        if (remember) await page.check("#remember");
        await page.click("#login");
        await page.waitForSelector("#user");
        return { context, page };
      };
      const laptop = await signIn(profiles.laptop, true);
      const phone = await signIn(profiles.phone, false);
      const sid = async (context: BrowserContext) =>
        (await context.cookies()).find((c) => c.name === "sid")!;
      assert.ok((await sid(laptop.context)).expires > Date.now() / 1000);
      assert.equal((await sid(phone.context)).expires, -1, "session cookie");

      await laptop.page.click("#sessions");
      await laptop.page.waitForSelector("#count");
      assert.equal(await laptop.page.textContent("#count"), "2");
      assert.equal(await laptop.page.locator("tr.session").count(), 2);

      // Restart both browsers.
      for (const context of contexts.splice(0)) await context.close();
      const laptop2 = await open(profiles.laptop);
      const phone2 = await open(profiles.phone);
      contexts.push(laptop2, phone2);
      const phonePage = await phone2.newPage();
      await phonePage.goto(url);
      assert.equal(
        await phonePage.locator("#login").count(),
        1,
        "the browser-session sign-in ended with the browser",
      );
      const laptopPage = await laptop2.newPage();
      await laptopPage.goto(url);
      assert.equal(await laptopPage.textContent("#user"), "Ada");

      // The phone signs in again; the laptop signs out every other device
      // (the phone, and the session its old browser left behind).
      await phonePage.fill("#name", "Ada");
      await phonePage.click("#login");
      await phonePage.waitForSelector("#user");
      await laptopPage.goto(`${url}sessions`);
      assert.equal(await laptopPage.textContent("#count"), "3");
      await laptopPage.click("#revoke-others");
      await laptopPage.waitForSelector("#notice");
      assert.equal(
        await laptopPage.textContent("#notice"),
        "Signed out 2 other sessions.",
      );
      assert.equal(await laptopPage.textContent("#count"), "1");
      await phonePage.reload();
      assert.equal(await phonePage.locator("#login").count(), 1);
      await Deno.mkdir(SHOTS, { recursive: true });
      await laptopPage.screenshot({ path: `${SHOTS}sessions.png` });
    } finally {
      for (const context of contexts) await context.close();
      await server.stop();
      await Deno.remove(cwd, { recursive: true });
    }
  },
});

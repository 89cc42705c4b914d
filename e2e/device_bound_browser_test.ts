// Device-bound sessions in a real browser. Headless Chromium 150 with the
// DBSC flags (Debian's 150, which `deno task e2e:setup` puts in .cache/;
// Debian's current 156 never registers) registers a key at sign-in and
// refreshes its short-lived session cookie on its own, lifetime after
// lifetime; a copy of its cookies in another browser works only until the
// lifetime is over; requests on their way while the browser refreshes
// early keep their session; sign-out ends it. A browser without the flags
// (Debian's Chromium, like the other browser tests) keeps an ordinary
// session. The log of what the server saw is printed, for the record.
//
// `deno task e2e`. Without that Chromium (CHROMIUM_DBSC_PATH, else
// .cache/chromium-150/chromium) the DBSC test is ignored and says how to
// get it; under CI=true or E2E_DBSC=required that is a failure, and so is a
// Chromium that does not start DBSC sessions with the flags (found out by a
// short probe before the test).
import assert from "node:assert/strict";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { Hono } from "hono";
import { session } from "../mod.ts";
import { MemoryStore } from "../stores/memory.ts";
import {
  CHROMIUM_FLAGS,
  chromiumVersion,
  DBSC_FLAGS,
  findChromium,
  findDbscChromium,
  missingChromium,
  missingDbscChromium,
} from "../support/chromium.ts";

/** Debian's Chromium: the other browsers (the thief's, one without DBSC). */
const CHROMIUM = await findChromium();
/** The Chromium that speaks DBSC. */
const DBSC_CHROMIUM = await findDbscChromium();
/** Seconds a bound cookie lasts: short, so the test sees several. */
const LIFETIME = 8;
/** Requests the signed-in page sends on its own, each reading the session. */
const FETCHES = 8;
/** Requests the busy page sends. */
const BUSY = 40;
const REQUIRED = Deno.env.get("CI") === "true" ||
  Deno.env.get("E2E_DBSC") === "required";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * What the server saw, with the time since the log began; a line said
 * again at once is counted on the line before (×N). While muted, lines
 * are only counted, and written once each with their count at the end.
 */
class Log {
  readonly #start = Date.now();
  readonly lines: string[] = [];
  #last = "";
  #times = 1;
  #muted: Map<string, number> | undefined;
  add(what: string): void {
    if (this.#muted) {
      this.#muted.set(what, (this.#muted.get(what) ?? 0) + 1);
      return;
    }
    if (what === this.#last) {
      this.#times++;
      this.lines[this.lines.length - 1] = this.lines.at(-1)!.replace(
        / \(×\d+\)$|$/,
        ` (×${this.#times})`,
      );
      return;
    }
    this.#last = what;
    this.#times = 1;
    const s = ((Date.now() - this.#start) / 1000).toFixed(1).padStart(5);
    this.lines.push(`${s} s  ${what}`);
  }
  mute(): void {
    this.#muted = new Map();
  }
  unmute(): void {
    const muted = this.#muted ?? new Map<string, number>();
    this.#muted = undefined;
    for (const [what, n] of muted) {
      this.add(what);
      if (n > 1) this.lines[this.lines.length - 1] += ` (×${n})`;
      this.#last = "";
    }
  }
  /** How many times a line matching `what` was said. */
  count(what: string | RegExp): number {
    let n = 0;
    for (const l of this.lines) {
      if (typeof what === "string" ? l.includes(what) : what.test(l)) {
        n += Number(/ \(×(\d+)\)$/.exec(l)?.[1] ?? 1);
      }
    }
    return n;
  }
}

/**
 * The app under test: sign-in, a page saying who you are (which then
 * fetches /api a few times, as pages do), sign-out. The log names each
 * DBSC request, whether a refresh came with the bound cookie still there
 * (an early refresh) or without it (the browser holds the page's request
 * meanwhile), and each request served through a forwarded cookie.
 */
function serve(log: Log) {
  const store = new MemoryStore();
  let apiWithout = 0;
  const app = new Hono()
    .use(async (c, next) => {
      await next();
      if (!c.req.path.startsWith("/__dbsc/")) return;
      const set = c.res.headers.getSetCookie().some((l) =>
        l.startsWith("sid=") && !/Max-Age=0/.test(l)
      );
      const challenge = c.res.headers.has("secure-session-challenge");
      const proof = c.req.header("secure-session-response") !== undefined;
      const refresh = c.req.path.endsWith("/refresh");
      const live = /(?:^|;\s*)sid=/.test(c.req.header("cookie") ?? "");
      const why = !refresh
        ? ""
        : live
        ? " [cookie still live: early refresh]"
        : " [cookie expired: the page's request waits]";
      log.add(
        `${c.req.method} ${c.req.path}${
          proof ? " (signed proof)" : ""
        } -> ${c.res.status}${challenge ? " + challenge" : ""}${
          set ? " + new session cookie" : ""
        }${why}`,
      );
    })
    .use(session<{ userId?: string }>({
      store,
      deviceBound: { lifetime: LIFETIME },
      onEvent(event) {
        // Challenged and refreshed show in the refresh requests' lines.
        const step = (event as { step?: string }).step;
        if (step === "challenged" || step === "refreshed") return;
        if (event.type.startsWith("device") || event.type === "unknown-id") {
          log.add(`  event ${JSON.stringify(event)}`);
        }
      },
    }))
    .get("/", (c) =>
      c.html(`<!doctype html><title>dbsc</title>
        <form method="post" action="/login"><input id="name" name="name">
        <button id="login">Sign in</button></form>`))
    .post("/login", async (c) => {
      const form = await c.req.parseBody();
      c.session.regenerate();
      c.session.userId = String(form.name);
      return c.redirect("/me", 303);
    })
    .get(
      "/me",
      (c) =>
        c.html(`<!doctype html><p id="user">${c.session.userId ?? "-"}</p>
        <form method="post" action="/logout"><button id="logout">Sign out</button></form>
        <script>
          window.api = Promise.all(Array.from({ length: ${FETCHES} }, (_, i) =>
            new Promise((r) => setTimeout(r, i * 5))
              .then(() => fetch("/api?i=" + i)).then((r) => r.text())));
        </script>`),
    )
    // A page that keeps the server busy: ?n requests 10 ms apart.
    .get(
      "/busy",
      (c) =>
        c.html(`<!doctype html><p id="user">${c.session.userId ?? "-"}</p>
        <script>
          window.api = Promise.all(Array.from({ length: ${
          Number(c.req.query("n"))
        } }, (_, i) =>
            new Promise((r) => setTimeout(r, i * 10))
              .then(() => fetch("/api?i=" + i)).then((r) => r.text())));
        </script>`),
    )
    .get("/api", (c) => {
      if (c.session.userId === undefined) apiWithout++;
      return c.text(c.session.userId ?? "-");
    })
    .post("/logout", (c) => {
      c.session = null;
      return c.redirect("/me", 303);
    });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    app.fetch,
  );
  return {
    server,
    url: `http://localhost:${server.addr.port}`,
    apiWithout: () => apiWithout,
  };
}

async function signIn(context: BrowserContext, url: string, name: string) {
  const page = context.pages()[0] ?? await context.newPage();
  await page.goto(`${url}/`);
  await page.fill("#name", name);
  await page.click("#login");
  await page.waitForSelector("#user");
  return page;
}

/** Opens /me and waits for its own requests; what it says, and theirs. */
async function whoAmI(
  context: BrowserContext,
  url: string,
  path = "/me",
): Promise<{ user: string; api: string[] }> {
  const page: Page = context.pages()[0] ?? await context.newPage();
  await page.goto(`${url}${path}`);
  const user = (await page.textContent("#user")) ?? "";
  const api = await page.evaluate("window.api") as string[];
  return { user, api };
}

async function until(test: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (test()) return true;
    await sleep(100);
  }
  return test();
}

/**
 * Waits until no DBSC request has come for a second (at most `ms`): the
 * refreshes a browser's last requests set off have all arrived. Whether it
 * got there.
 */
async function quiet(log: Log, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  let seen = log.count("/__dbsc/");
  let since = Date.now();
  while (Date.now() < end) {
    await sleep(100);
    const now = log.count("/__dbsc/");
    if (now !== seen) [seen, since] = [now, Date.now()];
    else if (Date.now() - since >= 1_000) return true;
  }
  return false;
}

/** A browser with the DBSC flags, on a profile of its own. */
async function dbscBrowser(): Promise<{
  context: BrowserContext;
  close(): Promise<void>;
}> {
  const dir = await Deno.makeTempDir({ prefix: "hono-session-dbsc-" });
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: DBSC_CHROMIUM,
    args: [...CHROMIUM_FLAGS, ...DBSC_FLAGS],
  });
  return {
    context,
    async close() {
      await context.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

// Whether this Chromium starts DBSC sessions with the flags: it should POST
// a proof to the registration path within seconds of a sign-in.
async function probe(): Promise<string | undefined> {
  const log = new Log();
  const { server, url } = serve(log);
  const browser = await dbscBrowser();
  try {
    await signIn(browser.context, url, "probe");
    if (await until(() => log.count("/register") > 0, 8_000)) return undefined;
    const version = await chromiumVersion(DBSC_CHROMIUM!);
    return `${version} (${DBSC_CHROMIUM}) was offered registration (Secure-Session-Registration) and never posted to the registration path within 8 s`;
  } finally {
    await browser.close();
    await server.shutdown();
  }
}

if (CHROMIUM === undefined && Deno.env.get("CI") === "true") {
  Deno.test("e2e: Chromium is required under CI=true (device-bound)", () => {
    throw new Error(`CI=true and ${missingChromium()}`);
  });
} else if (CHROMIUM === undefined) {
  console.warn(`e2e skipped: ${missingChromium()}.`);
}

/** Why the DBSC test cannot run here, if it cannot. */
const NO_DBSC = DBSC_CHROMIUM === undefined
  ? missingDbscChromium()
  : await probe();
if (NO_DBSC !== undefined && REQUIRED) {
  Deno.test("e2e: a Chromium that starts DBSC sessions is required (CI=true or E2E_DBSC=required)", () => {
    throw new Error(NO_DBSC);
  });
} else if (NO_DBSC !== undefined) {
  console.warn(`e2e (device-bound) ignored: ${NO_DBSC}.`);
}

Deno.test({
  name:
    "e2e: Chromium with DBSC registers and refreshes on its own across several lifetimes; a copy of its cookies stops working; requests on their way during a refresh keep their session; sign-out ends it" +
    (NO_DBSC === undefined
      ? ""
      : DBSC_CHROMIUM === undefined
      ? " (ignored: no DBSC-capable Chromium; `deno task e2e:setup` gets Debian's Chromium 150)"
      : " (ignored: this Chromium does not start DBSC sessions)"),
  ignore: NO_DBSC !== undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const log = new Log();
    const { server, url, apiWithout } = serve(log);
    const browser = await dbscBrowser();
    // The thief's browser: another Chromium, no DBSC.
    const thief = await chromium.launch({
      executablePath: CHROMIUM ?? DBSC_CHROMIUM,
      args: [...CHROMIUM_FLAGS],
    });
    const refreshed = () => log.count(/refresh \(signed proof\) -> 200/);
    const expiredRefreshes = () => log.count("[cookie expired");
    try {
      log.add(
        `browser: ${await chromiumVersion(
          DBSC_CHROMIUM!,
        )} with the DBSC flags signs in as Ada`,
      );
      await signIn(browser.context, url, "Ada");
      assert.ok(
        await until(() => log.count('"step":"registered"') === 1, 10_000),
        "the browser registered",
      );
      const bound = (await browser.context.cookies()).find((c) =>
        c.name === "sid"
      )!;
      const left = bound.expires - Date.now() / 1000;
      assert.ok(left > 0 && left <= LIFETIME + 1, `Max-Age left ${left}`);
      log.add(
        `browser: registered; its session cookie now expires in ${
          left.toFixed(1)
        } s`,
      );

      // Malware copies the cookies to another machine, and keeps them
      // past their Max-Age.
      const stolen = (await browser.context.cookies()).map((c) => ({
        ...c,
        expires: Date.now() / 1000 + 86_400,
      }));
      const copy = await thief.newContext();
      await copy.addCookies(stolen);
      const early = await whoAmI(copy, url);
      log.add(`thief (copied cookies, within the lifetime): "${early.user}"`);
      assert.equal(early.user, "Ada");

      // Several lifetimes: each time the cookie has expired, the browser
      // refreshes before it sends the page's request; the page's own
      // requests then find the cookie short of its two minutes and refresh
      // early, while other requests are still on their way.
      for (let round = 1; round <= 3; round++) {
        await sleep((LIFETIME + 1) * 1000);
        const before = refreshed();
        const held = expiredRefreshes();
        const me = await whoAmI(browser.context, url);
        log.add(
          `browser (lifetime ${round} over): "${me.user}"; its ${FETCHES} own requests: ${
            me.api.filter((a) => a === "Ada").length
          } as Ada`,
        );
        assert.equal(me.user, "Ada");
        assert.deepEqual(me.api, Array(FETCHES).fill("Ada"));
        assert.ok(
          refreshed() > before,
          `the browser refreshed in round ${round}`,
        );
        assert.ok(
          expiredRefreshes() > held,
          `round ${round}: a refresh for the expired cookie held the page's request`,
        );
      }
      // A busy page: with a cookie of less than two minutes left, each of
      // its requests makes Chromium refresh again as soon as the last
      // refresh is done, while the next requests are on their way with
      // the cookie being replaced.
      log.add(`browser: opens a page that sends ${BUSY} requests, 3 times`);
      log.mute();
      const busy: string[] = [];
      for (let i = 0; i < 3; i++) {
        busy.push(
          ...(await whoAmI(browser.context, url, `/busy?n=${BUSY}`)).api,
        );
      }
      log.unmute();
      log.add(
        `browser: ${
          busy.filter((a) => a === "Ada").length
        } of its ${busy.length} requests as Ada`,
      );
      assert.deepEqual(busy, Array(3 * BUSY).fill("Ada"));

      // The key holder's last refreshes may still be on their way (the
      // busy page's last requests set them off): only what comes after
      // them can be the thief's.
      assert.ok(await quiet(log, 10_000), "the browser's refreshes settle");
      const refreshPosts = log.count("/refresh");
      const late = await whoAmI(copy, url);
      log.add(`thief (copied cookies, after the lifetime): "${late.user}"`);
      assert.equal(late.user, "-", "the copy no longer works");
      assert.deepEqual(late.api, Array(FETCHES).fill("-"));
      assert.equal(
        log.count("/refresh"),
        refreshPosts,
        "the other browser never refreshes",
      );
      assert.equal(log.count("device-proof-refused"), 0);
      assert.ok(log.count('"unknown-id"') >= 1, "the thief's copy refused");
      assert.equal(apiWithout(), FETCHES, "only the thief's requests had none");

      // Sign-out: the browser's next refresh is told to stop, and it stops.
      await whoAmI(browser.context, url);
      const page = browser.context.pages()[0]!;
      await page.click("#logout");
      await page.waitForSelector("#user");
      assert.equal(await page.textContent("#user"), "-");
      log.add("browser: signed out");
      assert.ok(
        await until(() => log.count('"step":"ended"') === 1, 5_000),
        "the refresh after sign-out was told to stop",
      );
      const after = log.count("/refresh");
      await sleep((LIFETIME + 1) * 1000);
      const out = await whoAmI(browser.context, url);
      log.add(`browser (a lifetime after sign-out): "${out.user}"`);
      assert.equal(out.user, "-");
      assert.equal(log.count("/refresh"), after, "no refresh after the end");

      const waited = log.count(/\(signed proof\) -> 200.*\[cookie expired/);
      const ahead = log.count(/\(signed proof\) -> 200.*\[cookie still live/);
      log.add(
        `summary: 1 registration; ${refreshed()} refreshes (${waited} for an expired cookie, the page's request held meanwhile; ${ahead} early, with the cookie still live); ${
          log.count('"step":"forwarded"')
        } requests served through a cookie an early refresh had just replaced; the copied cookie refused after the lifetime`,
      );
    } finally {
      console.log(
        `\nDBSC in ${await chromiumVersion(
          DBSC_CHROMIUM!,
        )} (lifetime ${LIFETIME} s):\n${log.lines.join("\n")}\n`,
      );
      await thief.close();
      await browser.close();
      await server.shutdown();
    }
  },
});

Deno.test({
  name: "e2e: a Chromium without the DBSC flags keeps an ordinary session" +
    (CHROMIUM === undefined ? " (skipped: apt-get install -y chromium)" : ""),
  ignore: CHROMIUM === undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const log = new Log();
    const { server, url } = serve(log);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [...CHROMIUM_FLAGS],
    });
    try {
      const context = await browser.newContext();
      await signIn(context, url, "Grace");
      // Offered registration, never registered: the cookie keeps the
      // session's own lifetime, and the session outlives the bound one.
      const sid = (await context.cookies()).find((c) => c.name === "sid")!;
      const days = (sid.expires - Date.now() / 1000) / 86_400;
      assert.ok(days > 0.99, `the cookie lasts ${days} days`);
      await sleep((LIFETIME + 1) * 1000);
      const me = await whoAmI(context, url);
      assert.equal(me.user, "Grace");
      assert.deepEqual(me.api, Array(FETCHES).fill("Grace"));
      assert.equal(log.count("/__dbsc/"), 0, log.lines.join("\n"));
      console.log(
        `\n${await chromiumVersion(
          CHROMIUM!,
        )} without the DBSC flags: offered registration at sign-in, never registered; its cookie lasts ${
          days.toFixed(2)
        } days (the session's own), and a lifetime (${LIFETIME} s) later it is still signed in as "${me.user}", with no DBSC request\n`,
      );
    } finally {
      await browser.close();
      await server.shutdown();
    }
  },
});

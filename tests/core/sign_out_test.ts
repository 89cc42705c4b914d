// Sign-out when the request carries only some of the session's cookies:
// the browser lost the session cookie but kept the exists cookie, sent a
// cookie that no longer opens, or (cookieChunks) sent only some chunks. The
// response still expires every name the session may use, so the browser
// holds nothing of it afterwards; a request that carries none of them
// gets no Set-Cookie.
import assert from "node:assert/strict";
import { Hono } from "hono";
import { session, type SessionOptions } from "../../mod.ts";
import { toBase64url } from "../../_lib/encoding.ts";
import { eachMode, Jar, SECRET, type SetCookie } from "../_helpers.ts";

function app(options: SessionOptions) {
  return new Hono()
    .use(session<{ blob?: string; userId?: string }>(options))
    .post("/login", (c) => {
      c.session.userId = "ada";
      const size = Number(c.req.query("blob") ?? 0);
      if (size > 0) {
        // Random text does not compress: a session over several cookies.
        c.session.blob = toBase64url(
          crypto.getRandomValues(new Uint8Array(size)),
        );
      }
      return c.text("ok");
    })
    .post("/logout", (c) => {
      c.session = null;
      return c.text("bye");
    });
}

/** The names a response expires (Max-Age=0), sorted. */
function expired(cookies: SetCookie[]): string[] {
  return cookies.filter((c) => c.maxAge === 0).map((c) => c.name).sort();
}

// deno-lint-ignore no-explicit-any
async function logout(a: Hono<any>, cookie: string): Promise<SetCookie[]> {
  const jar = new Jar(a);
  const res = await jar.fetch("/logout", {
    method: "POST",
    headers: cookie ? { cookie } : {},
  });
  assert.equal(res.status, 200);
  return jar.last;
}

eachMode(
  "sign-out: a request carrying only the exists cookie expires both cookies",
  async (mode) => {
    const a = app(mode.options());
    const jar = new Jar(a);
    await jar.fetch("/login", { method: "POST" });
    assert.equal(jar.get("sx"), "1");
    // The session cookie is gone from the browser (deleted by a script of
    // the app, expired earlier): only sx=1 comes.
    assert.deepEqual(expired(await logout(a, "sx=1")), ["sid", "sx"]);
  },
);

eachMode(
  "sign-out: a request carrying a session cookie that no longer opens expires both cookies",
  async (mode) => {
    const a = app(mode.options());
    const jar = new Jar(a);
    await jar.fetch("/login", { method: "POST" });
    const sid = jar.get("sid")!;
    const broken = sid.slice(0, -4) + (sid.endsWith("AAAA") ? "BBBB" : "AAAA");
    assert.deepEqual(
      expired(await logout(a, `sid=${encodeURIComponent(broken)}`)),
      ["sid", "sx"],
    );
  },
);

eachMode(
  "sign-out: a request carrying none of the session's cookies gets no Set-Cookie",
  async (mode) => {
    assert.deepEqual(await logout(app(mode.options()), ""), []);
    assert.deepEqual(await logout(app(mode.options()), "theme=dark"), []);
  },
);

const CHUNKED: SessionOptions = { secret: SECRET, cookieChunks: 3 };
const ALL_NAMES = ["sid", "sid.0", "sid.1", "sid.2", "sx"];

Deno.test("sign-out: a chunked session signed out with only some of its chunks expires every chunk name, the plain name and the exists cookie", async () => {
  const a = app(CHUNKED);
  const jar = new Jar(a);
  await jar.fetch("/login?blob=5000", { method: "POST" });
  assert.deepEqual([...jar.cookies.keys()].sort(), [
    "sid.0",
    "sid.1",
    "sid.2",
    "sx",
  ]);
  const chunk = (i: number) =>
    `sid.${i}=${encodeURIComponent(jar.get(`sid.${i}`)!)}`;
  for (
    const cookie of [
      `${chunk(1)}; ${chunk(2)}`, // the first chunk lost
      chunk(0), // only the first
      `${chunk(0)}; ${chunk(2)}`, // a gap
      chunk(2),
    ]
  ) {
    assert.deepEqual(expired(await logout(a, cookie)), ALL_NAMES, cookie);
  }
});

Deno.test("sign-out: a chunked session signed out with only the exists cookie expires every chunk name too", async () => {
  const a = app(CHUNKED);
  const jar = new Jar(a);
  await jar.fetch("/login?blob=5000", { method: "POST" });
  // Only sx reached this path (the chunks have a narrower Path, say):
  // the browser may hold any of them.
  assert.deepEqual(expired(await logout(a, "sx=1")), ALL_NAMES);
  // And the whole set, of course.
  assert.deepEqual(expired(await logout(a, jar.header())), ALL_NAMES);
});

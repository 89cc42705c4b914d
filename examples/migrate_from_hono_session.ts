// A hono-session 1.2.0 session surviving the switch to this package, in
// cookie mode and in store mode: one browser signs in on 1.2.0 (npm), the
// app then runs behind session({ ..., migrateFrom: "hono-session@1" }) with
// the same secret or the same store, and the session is served, then moved
// to this package's format at its first write.
//
//   deno run --allow-env examples/migrate_from_hono_session.ts
// (--allow-env: hono-session 1.x reads DEBUG through the debug package)
import { Hono, type MiddlewareHandler } from "hono";
import v1Session from "peer-hono-session";
import { session, type SessionEvent } from "@x/hono-session";

const secret = "the-secret-hono-session-1.x-was-given";

/** The app's routes, the same behind either middleware. */
function app(middleware: MiddlewareHandler): Hono {
  return new Hono()
    .use(middleware)
    .post("/login", (c: any) => {
      c.session.userId = "ada";
      return c.text("ok");
    })
    .get(
      "/me",
      (c: any) =>
        c.session.userId
          ? c.text(c.session.userId)
          : c.text("Unauthorised", 401),
    )
    .post("/count", (c: any) => {
      c.session.n = (c.session.n ?? 0) + 1;
      return c.text(String(c.session.n));
    });
}

const short = (v: string) => v.length > 28 ? `${v.slice(0, 28)}…` : v;

/** One browser: sends its cookie, keeps what it is sent, prints each step. */
async function step(
  who: string,
  target: Hono,
  jar: Map<string, string>,
  request: string,
  events: SessionEvent[] = [],
): Promise<void> {
  const [method, path] = request.split(" ") as [string, string];
  events.length = 0;
  const res = await target.request(path, {
    method,
    headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join("; ") },
  });
  const set: string[] = [];
  for (const line of res.headers.getSetCookie()) {
    const [pair = "", ...attributes] = line.split("; ");
    const [name = "", value = ""] = pair.split("=");
    jar.set(name, value);
    if (name !== "sid") continue;
    const maxAge = attributes.find((a) => a.startsWith("Max-Age="));
    set.push(`sid=${short(decodeURIComponent(value))} ${maxAge ?? ""}`);
  }
  console.log(
    `  ${who.padEnd(18)} ${request.padEnd(12)} → ${res.status} ${await res
      .text()}`,
  );
  if (set.length) console.log(`  ${"".padEnd(18)}   Set-Cookie: ${set}`);
  for (const e of events) {
    console.log(`  ${"".padEnd(18)}   onEvent: ${JSON.stringify(e)}`);
  }
}

for (const mode of ["cookie", "store"] as const) {
  const store = new Map<string, any>();
  const options = mode === "cookie" ? { secret } : { store };
  const old = app(v1Session(options) as unknown as MiddlewareHandler);
  const events: SessionEvent[] = [];
  const ours = app(session({
    ...options,
    migrateFrom: "hono-session@1",
    onEvent: (e) => void events.push(e),
  }));
  const jar = new Map<string, string>();
  console.log(
    mode === "cookie"
      ? "\ncookie mode, the same secret:"
      : "\nstore mode, the same Map:",
  );
  await step("hono-session 1.2.0", old, jar, "POST /login");
  await step("hono-session 1.2.0", old, jar, "GET /me");
  if (mode === "store") {
    console.log(`  store: ${JSON.stringify(Object.fromEntries(store))}`);
  }
  console.log(
    `  -- switch: session({ ${
      mode === "cookie" ? "secret" : "store"
    }, migrateFrom: "hono-session@1" }) --`,
  );
  await step("@x/hono-session", ours, jar, "GET /me", events);
  await step("@x/hono-session", ours, jar, "POST /count", events);
  await step("@x/hono-session", ours, jar, "GET /me", events);
  if (mode === "store") {
    console.log(`  store: ${JSON.stringify(Object.fromEntries(store))}`);
  }
  await step("hono-session 1.2.0", old, jar, "GET /me");
}

/**
 * A small app that shows the session middleware at work: sign in through a
 * form (with "remember me"), see who you are, get a one-time notice after
 * signing in, count your visits while signed in, see your sessions on other
 * devices (and which are bound to their device) and sign them out, sign
 * out.
 *
 * Run it from the repository's root with
 * `deno task --config examples/demo.json demo` (with Node alone:
 * `npx -y deno@2.9.6 task --config examples/demo.json demo`), then open
 * http://localhost:8000. examples/demo.json is the demo's own
 * configuration: it imports Hono, iron-webcrypto and this package's modules
 * and nothing else, so a first run downloads those and not the test and
 * benchmark tools of the repository's deno.json (`deno task demo` there is
 * the same task, after installing all of them). Its tasks run in
 * examples/.
 *
 * Environment:
 * - `PORT`: the port to listen on (default 8000).
 * - `SESSION_MODE`: where sessions live.
 *   - `kv` (default): Deno KV in the file `.data/demo.kv` (under examples/),
 *     so sessions survive a restart of the demo. `SESSION_KV_PATH` picks
 *     another file. The task may only read and write under `.data/`, so
 *     there it must be a path under `.data/`; for a file elsewhere, run the
 *     demo with that folder allowed (the refusal prints the command). The
 *     demo refuses, saying so, a path it may not use.
 *   - `memory`: a `MemoryStore` in this process.
 *   - `cookie`: sealed into the cookie itself; set `SESSION_SECRET` (32+
 *     characters) to keep them valid across restarts.
 * - `SESSION_DEVICE_BOUND`: with a store, sessions are device-bound
 *   (W3C DBSC) in browsers that support it: the session cookie lasts
 *   `SESSION_DEVICE_BOUND_LIFETIME` seconds (default 600) and the browser
 *   renews it by proving it holds its key. `off` turns it off. Other
 *   browsers keep an ordinary session.
 *
 * Why a POST can get 403 Forbidden: the app runs Hono's `csrf()`
 * middleware before the session. It refuses a form post (content type
 * form-urlencoded, multipart or text/plain, or none) whose `Origin` header
 * is missing or is not the origin the server was called by, unless
 * `Sec-Fetch-Site` says `same-origin`. Browsers send both headers with every
 * form post; curl sends neither, so `curl -d name=Ada
 * http://localhost:8000/login` gets 403. Add the header (the same host and
 * port as the URL: `localhost` and `127.0.0.1` are different origins), and
 * keep the cookies in a jar:
 *
 * ```sh
 * curl -i -c jar.txt -H "Origin: http://localhost:8000" -d name=Ada http://localhost:8000/login
 * curl -b jar.txt http://localhost:8000/me
 * ```
 *
 * @module
 */
import { Hono } from "hono";
import { csrf } from "hono/csrf";
import { html } from "hono/html";
import { session, type SessionOptions, userSessions } from "@x/hono-session";
import { DenoKvStore } from "@x/hono-session/stores/deno-kv";
import { MemoryStore } from "@x/hono-session/stores/memory";

interface DemoSession {
  userId?: string;
  visits?: number;
  notice?: string;
  /** The browser this session signed in from, for the sessions page. */
  device?: string;
}

const PAGE_STYLE = `
body { font: 16px system-ui; max-width: 36rem; margin: 3rem auto; }
.notice { background: #e8f5e9; padding: 0.5rem 1rem; border-radius: 4px; }
table { border-collapse: collapse; } td { padding: 0.25rem 0.75rem 0.25rem 0; }`;

function page(title: string, body: unknown) {
  return html`
    <!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8">
        <title>${title}</title>
        <style>${PAGE_STYLE}</style>
      </head>
      <body>
        <h1>${title}</h1>
        ${body}
      </body>
    </html>
  `;
}

const when = (ms: number | undefined) =>
  ms === undefined ? "-" : new Date(ms).toISOString().slice(0, 19) + "Z";

/**
 * Builds the demo app with the given session options. Cookies last only
 * as long as the browser unless "remember me" is ticked at sign-in.
 */
export function demoApp(options: SessionOptions) {
  // With a store, each sign-in is tied to its user: the sessions page
  // lists them and signs the others out. Cookie mode keeps nothing on the
  // server to list.
  const store = options.store;
  const sessions = store ? userSessions<DemoSession>(store) : undefined;
  // Chained, so that the handlers see the session's type.
  return new Hono()
    .use(csrf())
    .use(session<DemoSession>({ persistent: false, ...options }))
    .get("/", (c) => {
      const s = c.session;
      // Only signed-in visits are counted: an anonymous page view starts no
      // session (nothing is written, so no cookie is set).
      if (s.userId) s.visits = (s.visits ?? 0) + 1;
      const notice = s.notice ??
        (c.req.query("signed-out") !== undefined ? "You are signed out." : "");
      const body = s.userId
        ? html`
          <p>Signed in as <strong id="user">${s.userId}</strong>.</p>
          <p>Visits in this session: <span id="visits">${s.visits}</span></p>
          <p><a id="sessions" href="/sessions">Your sessions</a></p>
          <form method="post" action="/logout">
            <button id="logout">Sign out</button>
          </form>
        `
        : html`
          <form method="post" action="/login">
            <label>Name <input id="name" name="name" required maxlength="40"
              autocomplete="username"></label>
            <label><input type="checkbox" id="remember" name="remember">
              Remember me</label>
            <button id="login">Sign in</button>
          </form>
        `;
      return c.html(page(
        "hono-session demo",
        html`${
          notice ? html`<p class="notice" id="notice">${notice}</p>` : ""
        } ${body}`,
      ));
    })
    // The signed-in user's sessions, on every device, with sign-out buttons.
    .get("/sessions", async (c) => {
      const userId = c.session.userId;
      if (!userId) return c.redirect("/", 303);
      if (!sessions) {
        return c.html(page(
          "Your sessions",
          html`
            <p id="unavailable">Cookie mode keeps nothing on the server, so
                        there is no list of sessions to show or sign out.</p>
            <p><a href="/">Back</a></p>
          `,
        ));
      }
      const list = await sessions.list(userId, c);
      const rows = list.map((s) =>
        html`
          <tr class="session">
            <td>${s.current ? html`<strong>this device</strong>` : "other"}</td>
            <td>${s.values.device ?? "unknown browser"}</td>
            <td>signed in ${when(s.created)}, last seen ${when(s.seen)}</td>
            <td>${s.persistent ? "remembered" : "until the browser closes"}</td>
            <td class="bound">${s.deviceBound ? "bound to its device" : ""}</td>
            <td>${s.current
              ? ""
              : html`<form method="post" action="/sessions/revoke">
            <input type="hidden" name="handle" value="${s.handle}">
            <button class="revoke">Sign out</button></form>`}</td>
          </tr>
        `
      );
      return c.html(page(
        "Your sessions",
        html`
          ${c.session.notice
            ? html`<p class="notice" id="notice">${c.session.notice}</p>`
            : ""}
                    <p>Signed in as <strong>${userId}</strong>
                      in <span id="count">${list.length}</span> places.</p>
                    <table>${rows}</table>
                    <form method="post" action="/sessions/revoke-others">
            <button id="revoke-others">Sign out other devices</button>
          </form>
                    <p><a href="/">Back</a></p>
        `,
      ));
    })
    .post("/sessions/revoke", async (c) => {
      const userId = c.session.userId;
      if (!userId || !sessions) return c.redirect("/", 303);
      const form = await c.req.parseBody();
      const done = typeof form.handle === "string" &&
        await sessions.revoke(userId, form.handle);
      c.session.flash(
        "notice",
        done ? "That session is signed out." : "That session had ended.",
      );
      return c.redirect("/sessions", 303);
    })
    .post("/sessions/revoke-others", async (c) => {
      const userId = c.session.userId;
      if (!userId || !sessions) return c.redirect("/", 303);
      const ended = await sessions.revokeAll(userId, { except: c });
      c.session.flash(
        "notice",
        `Signed out ${ended} other session${ended === 1 ? "" : "s"}.`,
      );
      return c.redirect("/sessions", 303);
    })
    .post("/login", async (c) => {
      const form = await c.req.parseBody();
      const name = typeof form.name === "string"
        ? form.name.trim().slice(0, 40)
        : "";
      if (!name) {
        c.session.flash("notice", "Please enter a name.");
        return c.redirect("/", 303);
      }
      // A new id at every sign-in, tied to the user (store mode), with
      // cookies that outlive the browser only if "remember me" is ticked.
      c.session.regenerate({
        persistent: form.remember === "on",
        ...(store ? { user: name } : {}),
      });
      c.session.userId = name;
      c.session.device = c.req.header("user-agent")?.slice(0, 80) ??
        "unknown browser";
      c.session.flash("notice", `Welcome, ${name}!`);
      return c.redirect("/", 303);
    })
    .post("/logout", (c) => {
      // Ends the session: the entry is deleted and both cookies expired.
      c.session = null;
      return c.redirect("/?signed-out", 303);
    })
    .get("/me", (c) => {
      const userId = c.session.userId;
      return userId
        ? c.json({ userId })
        : c.json({ error: "Unauthorised" }, 401);
    });
}

/** The demo's session settings, and how to release what they opened. */
export interface DemoSettings {
  /** Which kind of session storage is in use. */
  mode: "kv" | "memory" | "cookie";
  /** The options for `session()`. */
  options: SessionOptions;
  /** Closes the Deno KV database, if one was opened. */
  close(): void;
}

// With a store: device-bound sessions in browsers that speak DBSC, unless
// SESSION_DEVICE_BOUND=off.
function deviceBound(
  env: { get(name: string): string | undefined },
): Pick<SessionOptions, "deviceBound"> {
  const setting = env.get("SESSION_DEVICE_BOUND") ?? "on";
  if (setting === "off") return {};
  if (setting !== "on") {
    throw new TypeError(
      `SESSION_DEVICE_BOUND must be "on" or "off"; got "${setting}"`,
    );
  }
  const lifetime = Number(env.get("SESSION_DEVICE_BOUND_LIFETIME") ?? 600);
  return { deviceBound: { lifetime } };
}

/** Reads the demo's settings from the environment. */
export async function settingsFromEnv(
  env: { get(name: string): string | undefined },
): Promise<DemoSettings> {
  const mode = env.get("SESSION_MODE") ?? "kv";
  switch (mode) {
    case "kv": {
      const path = env.get("SESSION_KV_PATH") ?? ".data/demo.kv";
      if (path !== ":memory:") {
        const dir = path.slice(0, path.lastIndexOf("/") + 1) || ".";
        refuseUnlessWritable(path, dir);
        await Deno.mkdir(dir, { recursive: true });
      }
      const kv = await Deno.openKv(path);
      return {
        mode,
        options: { store: new DenoKvStore(kv), ...deviceBound(env) },
        close: () => kv.close(),
      };
    }
    case "memory": {
      const store = new MemoryStore({ maxEntries: 10_000 });
      return {
        mode,
        options: { store, ...deviceBound(env) },
        close: () => store.close(),
      };
    }
    case "cookie": {
      const secret = env.get("SESSION_SECRET");
      return {
        mode,
        // Unset: leave the option out, for a random per-process secret
        // (session() refuses an explicit undefined secret).
        options: secret === undefined ? {} : { secret },
        close: () => {},
      };
    }
    default:
      throw new TypeError(
        `SESSION_MODE must be "kv", "memory" or "cookie"; got "${mode}"`,
      );
  }
}

// The demo task may read and write only under .data/: a KV file elsewhere
// would die on a permission error, so say what to do instead.
function refuseUnlessWritable(path: string, dir: string): void {
  const allowed = (["read", "write"] as const).every((name) =>
    Deno.permissions.querySync({ name, path: dir }).state === "granted"
  );
  if (!allowed) {
    throw new Error(
      `SESSION_KV_PATH is "${path}", but this process may not read and write "${dir}". ` +
        "Pick a path under .data/, or let the demo use that folder (from the repository's root): " +
        `deno run --config examples/demo.json --allow-net --allow-env --allow-read=${dir} --allow-write=${dir} examples/demo.ts`,
    );
  }
}

if (import.meta.main) {
  let settings: DemoSettings;
  try {
    settings = await settingsFromEnv(Deno.env);
  } catch (error) {
    console.error(`demo: ${error instanceof Error ? error.message : error}`);
    Deno.exit(1);
  }
  const app = demoApp(settings.options);
  Deno.serve({
    port: Number(Deno.env.get("PORT") ?? 8000),
    hostname: "127.0.0.1",
    onListen: ({ port }) =>
      console.log(
        `hono-session demo (${settings.mode} sessions) on http://localhost:${port}${
          settings.mode === "cookie" && !("secret" in settings.options)
            ? "; no SESSION_SECRET: sealed with a random key, so sessions end when the demo stops"
            : ""
        }`,
      ),
  }, app.fetch);
}

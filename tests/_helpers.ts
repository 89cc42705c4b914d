// Shared test helpers: the three ways to run the middleware, and a small
// cookie jar that plays the browser.
import { Hono } from "hono";
import FakeTimers from "@sinonjs/fake-timers";
import {
  type Encoder,
  session,
  SessionConflictError,
  type SessionEvent,
  type SessionOptions,
  type SessionRecord,
  type SessionStore,
} from "../mod.ts";
import { storeKey } from "../_store_mode/ids.ts";

export { storeKey };

export const SECRET = "a-test-secret-that-is-long-enough-for-iron!";

/**
 * Whether an event is one of the routine reports of a session's life
 * (created, regenerated, signed out, a cookie written), which come with
 * every write: tests about refusals, expiry and conflicts leave them out.
 */
export function isLifecycle(event: SessionEvent): boolean {
  return event.type === "created" || event.type === "regenerated" ||
    event.type === "signed-out" || event.type === "cookie-written";
}

/** A store that answers asynchronously and counts its calls. */
export class AsyncStore implements SessionStore {
  readonly entries: Map<string, string> = new Map();
  calls = { get: 0, set: 0, delete: 0 };
  async get(id: string): Promise<SessionRecord | undefined> {
    this.calls.get++;
    await Promise.resolve();
    const json = this.entries.get(id);
    return json === undefined ? undefined : JSON.parse(json);
  }
  async set(id: string, record: SessionRecord): Promise<void> {
    this.calls.set++;
    await Promise.resolve();
    this.entries.set(id, JSON.stringify(record));
  }
  async delete(id: string): Promise<void> {
    this.calls.delete++;
    await Promise.resolve();
    this.entries.delete(id);
  }
  get size(): number {
    return this.entries.size;
  }
}

/** One way of running the middleware, with a look at what it stored. */
export interface Mode {
  name: string;
  store: boolean;
  options(extra?: SessionOptions): SessionOptions;
  /** Number of sessions held server-side (0 in cookie mode). */
  size(): number;
  /** The stored record for a session cookie's value (store modes). */
  record(token: string): Promise<SessionRecord | undefined>;
}

/** Cookie mode, a Map store, and an async custom store: fresh each call. */
export function modes(): Mode[] {
  const map = new Map<string, SessionRecord>();
  const asyncStore = new AsyncStore();
  return [
    {
      name: "cookie",
      store: false,
      options: (extra) => ({ secret: SECRET, ...extra }),
      size: () => 0,
      record: () => Promise.resolve(undefined),
    },
    {
      name: "Map store",
      store: true,
      options: (extra) => ({ store: map, ...extra }),
      size: () => map.size,
      record: async (token) => map.get(await storeKey(token)),
    },
    {
      name: "async store",
      store: true,
      options: (extra) => ({ store: asyncStore, ...extra }),
      size: () => asyncStore.size,
      record: async (token) => {
        const json = asyncStore.entries.get(await storeKey(token));
        return json === undefined ? undefined : JSON.parse(json);
      },
    },
  ];
}

/** A parsed Set-Cookie header. */
export interface SetCookie {
  name: string;
  value: string;
  maxAge: number | undefined;
  attributes: Record<string, string | true>;
  raw: string;
}

/** Parses every Set-Cookie header of a response. */
export function setCookies(res: Response): SetCookie[] {
  return res.headers.getSetCookie().map((raw) => {
    const [pair, ...rest] = raw.split(";");
    const eq = pair.indexOf("=");
    const attributes: Record<string, string | true> = {};
    for (const part of rest) {
      const [k, v] = part.trim().split("=");
      attributes[k.toLowerCase()] = v ?? true;
    }
    const maxAge = attributes["max-age"];
    return {
      name: pair.slice(0, eq).trim(),
      value: decodeURIComponent(pair.slice(eq + 1).trim()),
      maxAge: typeof maxAge === "string" ? Number(maxAge) : undefined,
      attributes,
      raw,
    };
  });
}

/** A browser's cookie store, for a sequence of requests. */
export class Jar {
  readonly cookies: Map<string, string> = new Map();
  last: SetCookie[] = [];

  constructor(readonly app: Hono<any>) {}

  /** Sends a request with the jar's cookies and keeps what comes back. */
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0 && !headers.has("cookie")) {
      headers.set("cookie", this.header());
    }
    const res = await this.app.request(path, { ...init, headers });
    this.last = setCookies(res);
    for (const cookie of this.last) {
      if (cookie.maxAge === 0) this.cookies.delete(cookie.name);
      else this.cookies.set(cookie.name, cookie.value);
    }
    return res;
  }

  /** Sends a request and returns its status and body text. */
  async text(path: string, init?: RequestInit): Promise<[number, string]> {
    const res = await this.fetch(path, init);
    return [res.status, await res.text()];
  }

  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
      .join("; ");
  }

  get(name: string): string | undefined {
    return this.cookies.get(name);
  }
}

/** A fresh app with the middleware and a few routes most tests use. */
export function basicApp(options: SessionOptions) {
  const app = new Hono()
    .use(
      session<{ userId?: string; n?: number; msg?: string; list?: unknown }>(
        options,
      ),
    )
    .get("/read", (c) => c.text(c.session.userId ?? "-"))
    .post("/login", (c) => {
      c.session.userId = c.req.query("user") ?? "ada";
      return c.text("ok");
    })
    .post("/logout", (c) => {
      c.session = null;
      return c.text("bye");
    })
    .post("/count", (c) => {
      c.session.n = (c.session.n ?? 0) + 1;
      return c.text(String(c.session.n));
    });
  // Errors answer 500 with their message, so tests can read it.
  app.onError((err, c) => c.text(`${err.name}: ${err.message}`, 500));
  return app;
}

/**
 * An app whose sign-in ties the session to `?user`, for tests of a
 * store's user index: read, sign in, regenerate, renew (`?maxAge`), sign
 * out. A conflict answers 409, any other error 500, with its message.
 */
export function usersApp(store: SessionStore, maxAge?: number) {
  const app = new Hono()
    .use(session<{ userId?: string }>({ store, maxAge }))
    .get("/read", (c) => c.text(c.session.userId ?? "-"))
    .post("/signin", (c) => {
      const user = c.req.query("user")!;
      c.session.regenerate({ user });
      c.session.userId = user;
      return c.text("ok");
    })
    .post("/regenerate", (c) => {
      c.session.regenerate();
      return c.text("ok");
    })
    .post("/renew", (c) => {
      c.session.renew(Number(c.req.query("maxAge")));
      return c.text("ok");
    })
    .post("/logout", (c) => {
      c.session = null;
      return c.text("bye");
    });
  app.onError((err, c) =>
    c.text(
      `${err.name}: ${err.message}`,
      err instanceof SessionConflictError ? 409 : 500,
    )
  );
  return app;
}

/** Registers one test per mode: cookie, Map store, async store. */
export function eachMode(
  name: string,
  fn: (mode: Mode) => Promise<void> | void,
  only?: "store" | "cookie",
): void {
  for (const mode of modes()) {
    if (only === "store" && !mode.store) continue;
    if (only === "cookie" && mode.store) continue;
    Deno.test(`${name} [${mode.name}]`, () => fn(mode));
  }
}

/** Installs fake Date (only) for the body, then restores it. */
export async function withFakeTime(
  fn: (clock: { tick(ms: number): void; now(): number }) => Promise<void>,
): Promise<void> {
  const clock = FakeTimers.install({
    now: Date.UTC(2026, 0, 1),
    toFake: ["Date"],
  });
  try {
    await fn({ tick: (ms) => clock.tick(ms), now: () => clock.now });
  } finally {
    clock.uninstall();
  }
}

/**
 * Fails if `promise` does not settle within `ms`: a request that hangs fails
 * the test instead of stalling it.
 */
export async function within<T>(
  ms: number,
  promise: Promise<T>,
  what: string,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${what}: no answer within ${ms} ms`)),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * An encoder whose value has exactly the length the session asks for
 * (`size`), made of characters a cookie carries as they are (or `é`,
 * which encodes to `%C3%A9`, with `escaped`). Values are looked up, so
 * decode knows only what encode made.
 */
export function exactEncoder(): Encoder {
  const made = new Map<string, SessionRecord>();
  return {
    encode(record) {
      const data = record.data as { size: number; escaped?: boolean };
      const head = `v${made.size}_`;
      const fill = data.escaped ? "é" : "x";
      const value = head + fill.repeat(data.size - head.length);
      made.set(value, record);
      return value;
    },
    decode: (value) => made.get(value) ?? null,
  };
}

/**
 * An app whose session asks {@linkcode exactEncoder} for a value of `n`
 * characters (`POST /size/:n`, `?escaped` for ones that grow when
 * percent-encoded), reads it back (`GET /size`) and signs out.
 */
export function sizedApp(options: SessionOptions) {
  const app = new Hono()
    .use(session<{ size?: number; escaped?: boolean }>(options))
    .post("/size/:n", (c) => {
      c.session.size = Number(c.req.param("n"));
      if (c.req.query("escaped") !== undefined) c.session.escaped = true;
      return c.text("ok");
    })
    .get("/size", (c) => c.text(String(c.session.size ?? "-")))
    .post("/logout", (c) => {
      c.session = null;
      return c.text("bye");
    });
  app.onError((err, c) => c.text(`${err.name}: ${err.message}`, 500));
  return app;
}

/**
 * `name`, saying why its tests are ignored when the server it needs is not
 * installed (PostgreSQL when the name says so, else redis-server): the
 * suite names the service once, each ignored test says it too.
 */
export function withWhyIgnored(name: string, available: boolean): string {
  if (available) return name;
  const service = name.includes("PostgreSQL") ? "PostgreSQL" : "redis-server";
  return `${name} (skipped: ${service} not installed)`;
}

// What the migration tests share: the real hono-session 1.2.0 (npm), one
// set of application routes that runs behind either middleware, and a
// browser that can be handed from one app to the other.
import { Hono, type MiddlewareHandler } from "hono";
import v1Session from "peer-hono-session";
import {
  session,
  SessionConflictError,
  type SessionEvent,
  type SessionOptions,
} from "../../mod.ts";
import { DatabaseSync } from "node:sqlite";
import { MemoryStore } from "../../stores/memory.ts";
import { Jar } from "../_helpers.ts";
import type { Gates } from "../store_mode/_races.ts";

export { Gates } from "../store_mode/_races.ts";

export { v1Session };

/** What onEvent reports for a 1.x session served, and moved. */
export const LOADED: SessionEvent = {
  type: "legacy-session",
  from: "hono-session@1",
  step: "loaded",
};
export const MOVED: SessionEvent = {
  type: "legacy-session",
  from: "hono-session@1",
  step: "moved",
};

/** The secret both libraries are given (1.x needs 32 characters too). */
/**
 * A listener keeping the events these tests follow: every one but the size
 * of each cookie written, which comes with every write.
 */
export function recorder(events: SessionEvent[]): (e: SessionEvent) => void {
  return (e) => void (e.type !== "cookie-written" && events.push(e));
}

export const V1_SECRET = "the-secret-hono-session-1.x-was-given";

/** The options 1.2.0 takes that matter here. */
export interface V1Options {
  secret?: string;
  store?: unknown;
  maxAge?: number;
  cookieName?: string;
  encoder?: unknown;
}

/**
 * The routes of one application, written once against the API both
 * libraries share (1.x's `regenerate()` returns a promise; awaiting ours is
 * harmless). Errors answer with their name: 409 for a conflict.
 */
export function routes(middleware: MiddlewareHandler, gates?: Gates): Hono {
  const app = new Hono();
  app.use(middleware);
  // Reads the session, waits at the gate named by ?gate=, then writes ?key=.
  app.post("/slow-set", async (c: any) => {
    void c.session.userId;
    await gates?.hold(c.req.query("gate") ?? "set");
    c.session[c.req.query("key") ?? "n"] = c.req.query("value") ?? 1;
    return c.text("ok");
  });
  // Reads the session, waits at the gate named by ?gate=, writes nothing.
  app.get("/slow-read", async (c: any) => {
    const userId = c.session.userId;
    await gates?.hold(c.req.query("gate") ?? "read");
    return c.text(userId ?? "-");
  });
  app.post("/login", async (c: any) => {
    await c.session.regenerate();
    c.session.userId = c.req.query("user") ?? "ada";
    c.session.flash("notice", `welcome ${c.session.userId}`);
    return c.text("ok");
  });
  app.get("/me", (c: any) => {
    const userId = c.session.userId;
    return userId ? c.text(userId) : c.text("Unauthorised", 401);
  });
  app.get("/state", (c: any) =>
    c.json({
      userId: c.session.userId ?? null,
      n: c.session.n ?? null,
      cart: c.session.cart ?? null,
      notice: c.session.notice ?? null,
      isNew: c.session.isNew,
    }));
  app.post("/count", (c: any) => {
    c.session.n = (c.session.n ?? 0) + 1;
    return c.text(String(c.session.n));
  });
  app.post("/cart", (c: any) => {
    c.session.cart = [...(c.session.cart ?? []), c.req.query("item")];
    return c.json(c.session.cart);
  });
  app.post("/flash", (c: any) => {
    c.session.flash("notice", c.req.query("text"));
    return c.text("ok");
  });
  app.post("/reflash", (c: any) => {
    c.session.reflash();
    return c.text(c.session.notice ?? "-");
  });
  app.post("/renew", (c: any) => {
    c.session.renew(Number(c.req.query("seconds")));
    return c.text("ok");
  });
  app.post("/logout", (c: any) => {
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

/** The application behind hono-session 1.2.0. */
export function v1App(options: V1Options, gates?: Gates): Hono {
  return routes(
    v1Session(options as never) as unknown as MiddlewareHandler,
    gates,
  );
}

/** The same application behind this package. */
export function ourApp(options: SessionOptions, gates?: Gates): Hono {
  return routes(session(options) as unknown as MiddlewareHandler, gates);
}

/** A browser whose requests go to whichever app it is pointed at. */
export class Browser extends Jar {
  /** The app it talks to: set it to switch libraries. */
  declare app: Hono;

  /** `METHOD /path` → "status body". */
  async step(step: string): Promise<string> {
    const [method, path] = step.split(" ") as [string, string];
    const [status, body] = await this.text(path, { method });
    return `${status} ${body}`;
  }

  /** A second tab holding the same cookies. */
  tab(): Browser {
    const other = new Browser(this.app);
    for (const [k, v] of this.cookies) other.cookies.set(k, v);
    return other;
  }
}

/** A store mode both libraries can share, made fresh for each run. */
export interface SharedStore {
  name: string;
  make(): {
    store: any;
    /** The ids the store holds, 1.x's raw ones and our hashes alike. */
    ids(): string[];
    /** What the store holds under `id`, as its `get` returns it. */
    peek(id: string): Promise<unknown>;
    close(): void;
  };
}

/**
 * The stores a 1.x application could have handed to both libraries: a
 * `Map` (1.x's README), our `MemoryStore` (it takes 1.x's flat records),
 * and a store of the app's own over a database, written as 1.x's README
 * shows (here SQLite, the values as JSON text, asynchronous).
 */
export const sharedStores: SharedStore[] = [
  {
    name: "Map",
    make() {
      const map = new Map<string, unknown>();
      return {
        store: map,
        ids: () => [...map.keys()],
        peek: (id) => Promise.resolve(map.get(id)),
        close() {},
      };
    },
  },
  {
    name: "MemoryStore",
    make() {
      const store = new MemoryStore({ sweepInterval: 0 });
      const ids = new Set<string>();
      // MemoryStore lists no ids: remember what was written, keep what is left.
      const set = store.set.bind(store);
      store.set = (id, record, c) => {
        ids.add(id);
        set(id, record, c);
      };
      return {
        store,
        ids: () => [...ids].filter((id) => store.get(id) !== undefined),
        peek: (id) => Promise.resolve(store.get(id)),
        close: () => store.close(),
      };
    },
  },
  {
    name: "the app's own store (SQLite, as 1.x's README shows)",
    make() {
      const db = new DatabaseSync(":memory:");
      db.exec(
        "CREATE TABLE sessions (id TEXT PRIMARY KEY, data TEXT NOT NULL)",
      );
      const store = {
        async get(id: string) {
          await Promise.resolve();
          const row = db.prepare("SELECT data FROM sessions WHERE id = ?")
            .get(id) as { data: string } | undefined;
          return row ? JSON.parse(row.data) : undefined;
        },
        async set(id: string, data: unknown) {
          await Promise.resolve();
          db.prepare(
            "INSERT INTO sessions (id, data) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET data = excluded.data",
          ).run(id, JSON.stringify(data));
        },
        async delete(id: string) {
          await Promise.resolve();
          db.prepare("DELETE FROM sessions WHERE id = ?").run(id);
        },
      };
      return {
        store,
        ids: () =>
          (db.prepare("SELECT id FROM sessions").all() as { id: string }[])
            .map((row) => row.id),
        peek: (id) => store.get(id),
        close: () => db.close(),
      };
    },
  },
];

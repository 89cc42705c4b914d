// Typing contract 4: stores and encoders shaped as in the reference
// document type-check as written.
import { Hono } from "hono";
import session, { type Encoder, type SessionStore } from "@x/hono-session";

declare const db: {
  query(sql: string, params: Record<string, unknown>): Promise<any>;
};

const databaseStore = {
  async get(id: string, _c: unknown) {
    return await db.query("SELECT data FROM sessions WHERE id = $id", { id });
  },
  async set(id: string, data: unknown, _c: unknown) {
    await db.query(
      "INSERT INTO sessions (id, data) VALUES ($id, $data) ON CONFLICT DO UPDATE SET data = $data",
      { id, data },
    );
  },
  async delete(id: string, _c: unknown) {
    await db.query("DELETE FROM sessions WHERE id = $id", { id });
  },
};
new Hono().use(session({ store: databaseStore }));

// The context comes last and is Hono's.
const withContext: SessionStore = {
  get: (_id, c) => (c.req.header("user-agent"), undefined),
  set: (_id, record, _c) => void record.expires,
  delete: () => {},
};
new Hono().use(session({ store: withContext }));

const memoryStore = new Map();
new Hono().use(session({ store: memoryStore }));
new Hono().use(
  session({ store: new Map<string, unknown>() as Map<string, never> }),
);

const encoder: Encoder = {
  encode(data, secret) {
    return btoa(JSON.stringify(data) + secret.length);
  },
  async decode(data, _secret) {
    return await JSON.parse(atob(data));
  },
};
new Hono().use(session({ secret: "x".repeat(32), encoder }));
new Hono().use(session({
  encoder: {
    encode(data, secret) {
      return `${JSON.stringify(data)}.${secret}`;
    },
    decode(data, secret) {
      return JSON.parse(data.slice(0, -secret.length - 1));
    },
  },
}));

// @ts-expect-error a store needs delete
new Hono().use(session({ store: { get() {}, set() {} } }));
// @ts-expect-error maxAge is a number of seconds
session({ maxAge: "1d" });
// @ts-expect-error the cookie's lifetime follows maxAge
session({ cookieOptions: { maxAge: 10 } });

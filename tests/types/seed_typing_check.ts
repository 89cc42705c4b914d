// Stores and encoders typed exactly as the reference document's readers
// write them (data as Record<string, unknown>, the context typed as Hono's)
// type-check as a SessionStore / Encoder and in session().
import { type Context, Hono } from "hono";
import session, { type Encoder, type SessionStore } from "@x/hono-session";

declare const db: {
  get(id: string): Promise<Record<string, unknown> | undefined>;
  put(id: string, data: Record<string, unknown>): Promise<void>;
  drop(id: string): Promise<void>;
};

const seedStore = {
  async get(
    id: string,
    _c: Context,
  ): Promise<Record<string, unknown> | undefined> {
    return await db.get(id);
  },
  async set(
    id: string,
    data: Record<string, unknown>,
    _c: Context,
  ): Promise<void> {
    await db.put(id, data);
  },
  async delete(id: string, _c: Context): Promise<void> {
    await db.drop(id);
  },
};
const asStore: SessionStore = seedStore;
new Hono().use(session({ store: seedStore })).use(session({
  store: asStore,
  cookieName: "other",
  existsCookieName: "ox",
}));

const seedEncoder = {
  encode(data: Record<string, unknown>, secret: string): string {
    return `${btoa(JSON.stringify(data))}.${secret.length}`;
  },
  decode(data: string, _secret: string): Record<string, unknown> {
    return JSON.parse(atob(data.slice(0, data.lastIndexOf("."))));
  },
};
const asEncoder: Encoder = seedEncoder;
new Hono().use(session({ secret: "x".repeat(32), encoder: seedEncoder }));
new Hono().use(session({ encoder: asEncoder }));

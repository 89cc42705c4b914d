// An app compiled with strict, exactOptionalPropertyTypes and
// noUncheckedIndexedAccess (types_test.ts checks this file under them):
// options read from the environment, possibly undefined, are accepted.
import { Hono } from "hono";
import { session, type SessionOptions } from "@x/hono-session";
import { MemoryStore } from "@x/hono-session/stores/memory";

const env = (name: string): string | undefined => Deno.env.get(name);

const options: SessionOptions = {
  secret: env("SESSION_SECRET"),
  maxAge: env("SESSION_MAX_AGE") ? Number(env("SESSION_MAX_AGE")) : undefined,
  cookieOptions: { domain: env("COOKIE_DOMAIN"), sameSite: "Lax" },
  onEvent: undefined,
};
new Hono()
  .use(session<{ userId?: string }>(options))
  .get("/", (c) => c.text(c.session.userId ?? "-"));

new Hono().use(
  session({ store: new MemoryStore(), idleTimeout: undefined }),
);

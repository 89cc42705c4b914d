// An npm user's app with the global form: import the global entry,
// augment Session, and c.session is typed in a sub-app too.
import "@x/hono-session/global";
import { Hono } from "hono";
import { session } from "@x/hono-session";

declare module "@x/hono-session" {
  interface Session {
    userId?: string;
  }
}

export const sub = new Hono().get("/", (c) => {
  const id: string | undefined = c.session.userId;
  // @ts-expect-error not declared
  c.session.nope;
  // @ts-expect-error wrong type
  c.session.userId = 5;
  c.session = null;
  return c.text(String(id));
});
export const app = new Hono().use(session()).route("/sub", sub);

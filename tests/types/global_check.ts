// Typing contract 2: the global import plus an augmentation of Session
// types c.session in every handler, sub-apps included.
import "@x/hono-session/global";
import { Hono } from "hono";
import { session } from "@x/hono-session";

declare module "@x/hono-session" {
  interface Session {
    userId?: string;
    prefs?: { theme: "dark" | "light" };
  }
}

const sub = new Hono().get("/", (c) => {
  const id: string | undefined = c.session.userId;
  const theme: "dark" | "light" | undefined = c.session.prefs?.theme;
  // @ts-expect-error not declared
  c.session.nope;
  // @ts-expect-error wrong type
  c.session.userId = 5;
  c.session.flash("userId", "x");
  c.session = null;
  c.set("session", null);
  return c.text(`${id}${theme}`);
});

const app = new Hono().use(session()).route("/sub", sub).get("/", (c) => {
  const id: string | undefined = c.session.userId;
  return c.text(`${id}`);
});
export { app };

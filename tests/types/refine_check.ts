// Typing contract 3: a middleware declaring Variables.Session refines
// c.session in the handlers after it.
import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { session } from "@x/hono-session";

interface User {
  id: string;
  name: string;
}
declare function getUser(id: string): Promise<User>;

function verifySession() {
  return createMiddleware<{
    Variables: { user: User; Session: { userId: string } };
  }>(async (c, next) => {
    const userId = c.session.userId;
    if (!userId) return c.text("Unauthorised", 401);
    c.set("user", await getUser(userId));
    await next();
  });
}

const app = new Hono().use(session<{ userId?: string; theme?: "dark" }>());
app.get("/open", (c) => {
  // @ts-expect-error not refined here: string | undefined
  const id: string = c.session.userId;
  const maybe: string | undefined = c.session.userId;
  return c.text(`${id}${maybe}`);
});
app.get("/me", verifySession(), (c) => {
  const id: string = c.session.userId;
  // @ts-expect-error a string, not any
  const n: number = c.session.userId;
  const theme: "dark" | undefined = c.session.theme;
  const user: User = c.get("user");
  c.session.renew();
  return c.json({ id, n, theme, user });
});

// An npm user's app: hono from npm, @x/hono-session from the npm build,
// type-checked by tsc (the chain form and the refinement of the typing
// contract) and then run.
import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { session, type SessionStore } from "@x/hono-session";
import { MemoryStore } from "@x/hono-session/stores/memory";

const hono = process.argv[2] ?? "?";
const store: SessionStore = new MemoryStore({ sweepInterval: 0 });
// Refinement: the handlers after this middleware see userId as a string.
const signedIn = createMiddleware<
  { Variables: { Session: { userId: string } } }
>(async (c, next) => {
  if (!c.session.userId) return c.text("Unauthorised", 401);
  await next();
});
const app = new Hono()
  .use(session<{ userId?: string; visits?: number }>({ store }))
  .post("/login", (c) => {
    c.session.regenerate();
    c.session.userId = "npm-user";
    if (Math.random() > 2) {
      // Type checks only; never runs.
      // @ts-expect-error userId is a string
      c.session.userId = 42;
      // @ts-expect-error not declared
      c.session.nope = true;
    }
    return c.text("ok");
  })
  .get("/me", (c) => {
    const id: string | undefined = c.session.userId;
    const viaGet: string | undefined = c.get("session").userId;
    const viaVar: string | undefined = c.var.session.userId;
    // @ts-expect-error may be undefined
    const sure: string = c.session.userId;
    c.session.visits = (c.session.visits ?? 0) + 1;
    return c.json({ id, viaGet, viaVar, sure, visits: c.session.visits });
  })
  .get("/name", signedIn, (c) => {
    const id: string = c.session.userId;
    // @ts-expect-error a string, not any
    const n: number = c.session.userId;
    return c.text(`${id}${Math.random() > 2 ? n : ""}`);
  })
  .post("/logout", (c) => {
    c.session = null;
    c.set("session", null);
    return c.text("bye");
  });

// Without a generic, a value reads as unknown, and c.json takes it.
export const untyped = new Hono()
  .use(session({ store: new Map() }))
  .get("/raw", (c) => c.json(c.session.anything));

const login = await app.request("/login", { method: "POST" });
const cookie = login.headers.getSetCookie().map((c) => c.split(";")[0]).join(
  "; ",
);
const me = await (await app.request("/me", { headers: { cookie } })).json();
const name = await app.request("/name", { headers: { cookie } });
const anonymous = await app.request("/name");
if (
  me.id !== "npm-user" || me.viaVar !== "npm-user" || me.visits !== 1 ||
  await name.text() !== "npm-user" || anonymous.status !== 401
) {
  console.error(
    `FAIL npm consumer (hono ${hono}): unexpected`,
    me,
    name.status,
  );
  process.exit(1);
}
// Cookie attributes that would inject another attribute are refused when
// the middleware is created (Hono's cookie serializer refuses them since
// 4.12.4; the package's peer range starts there).
let refused = false;
try {
  session({
    store: new Map(),
    cookieOptions: { path: "/;Domain=evil.example" },
  });
} catch (error) {
  refused = /path/i.test((error as Error).message);
}
if (!refused) {
  console.error(
    `FAIL npm consumer (hono ${hono}): a Path with ";" was accepted`,
  );
  process.exit(1);
}
console.log(
  `PASS npm consumer (hono ${hono}): the tsc-compiled app signs in, reads its session, refuses a bad Path`,
);

// An npm user's app: hono from npm, @x/hono-session from the npm build,
// type-checked by tsc (the chain form of the typing contract) and then run.
import { Hono } from "hono";
import { session, type SessionStore } from "@x/hono-session";
import { MemoryStore } from "@x/hono-session/stores/memory";

const store: SessionStore = new MemoryStore({ sweepInterval: 0 });
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
    // @ts-expect-error may be undefined
    const sure: string = c.session.userId;
    c.session.visits = (c.session.visits ?? 0) + 1;
    return c.json({ id, viaGet, sure, visits: c.session.visits });
  })
  .post("/logout", (c) => {
    c.session = null;
    c.set("session", null);
    return c.text("bye");
  });

const login = await app.request("/login", { method: "POST" });
const cookie = login.headers.getSetCookie().map((c) => c.split(";")[0]).join(
  "; ",
);
const me = await (await app.request("/me", { headers: { cookie } })).json();
if (me.id !== "npm-user" || me.visits !== 1) {
  console.error("FAIL npm consumer: unexpected", me);
  process.exit(1);
}
console.log(
  "PASS npm consumer: the tsc-compiled app signs in and reads its session",
);

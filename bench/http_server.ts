// One server for the HTTP benchmark: `bare` (no middleware) or `cookie`
// (the session middleware in cookie mode), the same handlers either way.
// Prints its port, then serves until killed.
import { Hono } from "hono";
import { session } from "../mod.ts";
import { serveAndPrintPort } from "../support/server_process.ts";

const kind = Deno.args[0];
const app = kind === "cookie"
  ? new Hono()
    .use(session<{ userId?: string }>({
      secret: "bench-secret-bench-secret-bench-secret-42",
    }))
    .post("/login", (c) => {
      c.session.userId = "u1";
      return c.text("ok");
    })
    .get("/read", (c) => c.text(String(c.session.userId)))
  : new Hono()
    .post("/login", (c) => c.text("ok"))
    .get("/read", (c) => c.text("u1"));
serveAndPrintPort(app.fetch);

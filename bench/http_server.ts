// One server for the HTTP benchmark: `bare` (no middleware) or `cookie`
// (the session middleware in cookie mode), the same handler either way.
// Prints its port, then serves until killed.
import { Hono } from "hono";
import { session } from "../mod.ts";

const kind = Deno.args[0];
const app = new Hono();
if (kind === "cookie") {
  app.use(session({ secret: "bench-secret-bench-secret-bench-secret-42" }));
}
app.post("/login", (c) => {
  if (kind === "cookie") c.session.userId = "u1";
  return c.text("ok");
});
app.get(
  "/read",
  (c) => c.text(kind === "cookie" ? String(c.session.userId) : "u1"),
);
Deno.serve({
  hostname: "127.0.0.1",
  port: 0,
  onListen: ({ port }) => console.log(port),
}, app.fetch);

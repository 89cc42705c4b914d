// One server for the HTTP benchmark, by name: `bare` (no middleware),
// `ours-cookie`, `ours-map` (the session middleware in cookie mode or with
// a Map store) or `floor-map` (the hand-written Map floor), the same
// handlers for each. Prints its port, then serves until killed.
import { Hono } from "hono";
import { session } from "../mod.ts";
import { floorSession, mapFloor } from "./floors.ts";
import { serveAndPrintPort } from "../support/server_process.ts";

const kind = Deno.args[0];
type Ctx = any;

const access = kind === "floor-map"
  ? {
    mw: mapFloor(),
    read: (c: Ctx) => floorSession(c).values.userId,
    write: (c: Ctx, k: string, v: string) => {
      const s = floorSession(c);
      s.values = { ...s.values, [k]: v };
      s.changed = true;
    },
  }
  : kind === "ours-cookie" || kind === "ours-map"
  ? {
    mw: session<Record<string, string>>(
      kind === "ours-map"
        ? { store: new Map() }
        : { secret: "bench-secret-bench-secret-bench-secret-42" },
    ),
    read: (c: Ctx) => c.session.userId,
    write: (c: Ctx, k: string, v: string) => void (c.session[k] = v),
  }
  : undefined;

const app = new Hono();
if (access) app.use(access.mw);
let n = 0;
app.get("/new", (c) => {
  access?.write(c, "userId", "u1");
  return c.text("ok");
});
app.get("/read", (c) => c.text(String(access ? access.read(c) : "u1")));
app.get("/write", (c) => {
  access?.read(c);
  access?.write(c, "n", String(++n));
  return c.text("ok");
});
serveAndPrintPort(app.fetch);

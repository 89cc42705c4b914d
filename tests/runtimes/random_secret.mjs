// Node and Bun: without a secret, the random key is said once per process
// under NODE_ENV=production (read from process.env), and never without it.
// Prints one PASS or FAIL line; the runtime's name is the first argument.
import { Hono } from "hono";
import { session } from "@x/hono-session";

const warnings = [];
const warn = console.warn;
console.warn = (...args) => void warnings.push(args.join(" "));
try {
  // Two middlewares, each with sessions written and read: still one line.
  for (const name of ["sid", "other"]) {
    const app = new Hono()
      .use(session({ cookieName: name, existsCookieName: `${name}x` }))
      .get("/", (c) => {
        c.session.n = (c.session.n ?? 0) + 1;
        return c.text(String(c.session.n));
      });
    const first = await app.request("/");
    const cookie = first.headers.getSetCookie()[0].split(";")[0];
    await app.request("/", { headers: { cookie } });
  }
} finally {
  console.warn = warn;
}
const production = process.env.NODE_ENV === "production";
const said = warnings.filter((w) => w.includes("was given no secret"));
const ok = said.length === (production ? 1 : 0) &&
  (!production || said[0].includes("NODE_ENV is production"));
console.log(
  `${ok ? "PASS" : "FAIL"} ${process.argv[2] ?? "node"}: a random secret is ${
    production
      ? "said once under NODE_ENV=production"
      : "not said without NODE_ENV=production"
  } (${said.length} line(s))${ok ? "" : `\n${said.join("\n")}`}`,
);
process.exit(ok ? 0 : 1);

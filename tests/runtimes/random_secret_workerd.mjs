// workerd: without a secret, a Workers deployment (a request to a public
// host) is told from `wrangler dev` (a loopback host) and said once per
// isolate. The worker mounts one middleware per path, so each decides at
// its own first session; /warnings reports what the isolate printed.
import { bundleWorker } from "./bundle.mjs";
import { Miniflare } from "miniflare";

const worker = `
import { Hono } from "hono";
import { session } from "@x/hono-session";
const warnings = [];
const warn = console.warn;
console.warn = (...args) => { warnings.push(args.join(" ")); warn(...args); };
const write = (c) => { c.session.n = 1; return c.text("ok"); };
const app = new Hono()
  .use("/local/*", session({ cookieName: "l", existsCookieName: "lx" }))
  .use("/public/*", session({ cookieName: "p", existsCookieName: "px" }))
  .get("/local/touch", write)
  .get("/public/touch", write)
  .get("/warnings", (c) => c.json(warnings));
export default app;
`;
const mf = new Miniflare({
  modules: true,
  script: await bundleWorker({ contents: worker }),
  compatibilityDate: "2024-09-23",
});
let failed = 0;
const check = (ok, what, detail) => {
  if (!ok) failed++;
  console.log(
    `${ok ? "PASS" : "FAIL"} workerd: ${what}${ok ? "" : `\n${detail}`}`,
  );
};
try {
  const said = async () =>
    (await (await mf.dispatchFetch("http://localhost:8787/warnings")).json())
      .filter((w) => w.includes("was given no secret"));
  await mf.dispatchFetch("http://localhost:8787/local/touch");
  await mf.dispatchFetch("http://127.0.0.1:8787/local/touch");
  const local = await said();
  check(
    local.length === 0,
    "a random secret is not said for requests to localhost (wrangler dev)",
    local.join("\n"),
  );
  await mf.dispatchFetch("https://app.example.com/public/touch");
  await mf.dispatchFetch("https://app.example.com/public/touch");
  const deployed = await said();
  check(
    deployed.length === 1 &&
      deployed[0].includes("Cloudflare Workers deployment"),
    "a random secret is said once for a deployment (a public host)",
    deployed.join("\n"),
  );
} finally {
  await mf.dispose();
}
process.exit(failed ? 1 : 0);

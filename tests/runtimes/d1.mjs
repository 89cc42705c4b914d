// The D1 leg of the Workers runtime: tests/runtimes/d1_worker.mjs bundled
// with esbuild from the npm build, run by miniflare (real workerd, with a
// local D1 database bound as DB) on a loopback port. Runs the published
// conformance kit's cases one request each inside workerd, the runtime
// scenarios against the D1-backed app over HTTP, and D1's size limit.
import { bundleWorker } from "./bundle.mjs";
import { Miniflare } from "miniflare";
import { report, runScenarios } from "./scenarios.mjs";

const hono = process.argv[2] ? ` hono ${process.argv[2]}` : "";
const runtime = `workerd (miniflare) D1${hono}`;

// workerd has no node:test: the kit's cases register through its `test`
// option, so a stand-in that is never called is enough.
const noNodeTest = {
  name: "no-node-test",
  setup(b) {
    b.onResolve({ filter: /^node:test$/ }, () => ({
      path: "node:test",
      namespace: "stand-in",
    }));
    b.onLoad({ filter: /.*/, namespace: "stand-in" }, () => ({
      contents:
        "export function test() { throw new Error('node:test is not available in workerd'); }",
    }));
  },
};
const mf = new Miniflare({
  modules: true,
  script: await bundleWorker(
    new URL("./d1_worker.mjs", import.meta.url).pathname,
    { external: ["node:*"], plugins: [noNodeTest] },
  ),
  compatibilityDate: "2024-09-23",
  compatibilityFlags: ["nodejs_compat"],
  d1Databases: ["DB"],
  host: "127.0.0.1",
  port: 0,
});
let failed = 0;
const line = (ok, name, detail = "") => {
  if (!ok) failed++;
  console.log(
    `${ok ? "PASS" : "FAIL"} ${runtime}: ${name}${ok ? "" : `\n${detail}`}`,
  );
};
try {
  const url = await mf.ready;
  const setup = await fetch(new URL("/setup", url));
  line(setup.ok, "createTable()", await setup.text());
  const names = await (await fetch(new URL("/cases", url))).json();
  // Every group registers: D1 claims checked writes and its own expiry,
  // and has replace and listUser.
  const users = names.filter((name) => name.includes(" users: ")).length;
  line(
    names.length >= 31 && users >= 6,
    `the kit registered ${names.length} cases (${users} of them users cases)`,
  );
  for (const [i, name] of names.entries()) {
    const res = await fetch(new URL(`/case?i=${i}`, url));
    line(res.ok, name, await res.text());
  }
  failed += report(
    runtime,
    "d1",
    await runScenarios(new URL("/d1", url).href, "d1"),
  );
  const [over, under] = await (await fetch(new URL("/limit", url))).json();
  line(
    over.status === 500 && over.setCookie === null && over.unchanged &&
      /^RangeError: SqlStore: the session is \d+ bytes of JSON, over the limit of 1995840 bytes \(maxBytes\)/
        .test(over.message),
    "a session over D1's row limit fails with SqlStore's RangeError; nothing written",
    JSON.stringify(over),
  );
  line(
    under.status === 200 && !under.unchanged &&
      under.longest > 1_900_000 && under.longest < 1_995_840,
    "a session just under D1's row limit is saved",
    JSON.stringify(under),
  );
} finally {
  await mf.dispose();
}
process.exit(failed ? 1 : 0);

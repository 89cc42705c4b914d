// workerd: the worker bundled with esbuild from the npm build, run by
// miniflare (real workerd) on a loopback port, the scenarios over HTTP.
import { bundleWorker } from "./bundle.mjs";
import { Miniflare } from "miniflare";
import { MODES } from "./app.mjs";
import { report, runScenarios } from "./scenarios.mjs";

// The Hono version under test, as tools/test_runtimes.ts passes it.
const hono = process.argv[2] ? ` hono ${process.argv[2]}` : "";

const mf = new Miniflare({
  modules: true,
  script: await bundleWorker(new URL("./worker.mjs", import.meta.url).pathname),
  compatibilityDate: "2024-09-23",
  host: "127.0.0.1",
  port: 0,
});
const url = await mf.ready;
let failed = 0;
try {
  for (const mode of MODES) {
    failed += report(
      `workerd (miniflare)${hono}`,
      mode,
      await runScenarios(new URL(mode, url).href, mode),
    );
  }
} finally {
  await mf.dispose();
}
process.exit(failed ? 1 : 0);

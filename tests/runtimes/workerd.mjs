// workerd: the worker bundled with esbuild from the npm build, run by
// miniflare (real workerd) on a loopback port, the scenarios over HTTP.
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { MODES } from "./app.mjs";
import { report, runScenarios } from "./scenarios.mjs";

// The Hono version under test, as tools/test_runtimes.ts passes it.
const hono = process.argv[2] ? ` hono ${process.argv[2]}` : "";

const bundle = await build({
  entryPoints: [new URL("./worker.mjs", import.meta.url).pathname],
  bundle: true,
  format: "esm",
  platform: "neutral",
  mainFields: ["module", "main"],
  conditions: ["worker", "workerd", "import"],
  write: false,
});
const mf = new Miniflare({
  modules: true,
  script: bundle.outputFiles[0].text,
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

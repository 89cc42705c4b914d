// One bundle for workerd: the npm build and a worker's module, bundled with
// esbuild as Wrangler would (ES modules, the worker and workerd export
// conditions), returned as the script text miniflare runs.
import { build } from "esbuild";

/**
 * Bundles `entry` (a path, or `{ contents }` of a module written inline)
 * with the options every worker here shares, plus `extra`.
 */
export async function bundleWorker(entry, extra = {}) {
  const result = await build({
    ...(typeof entry === "string" ? { entryPoints: [entry] } : {
      stdin: { contents: entry.contents, resolveDir: process.cwd() },
    }),
    bundle: true,
    format: "esm",
    platform: "neutral",
    mainFields: ["module", "main"],
    conditions: ["worker", "workerd", "import"],
    write: false,
    ...extra,
  });
  return result.outputFiles[0].text;
}

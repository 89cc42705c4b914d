// The runtime matrix: builds the npm package once, checks the tarball
// (README.md and LICENSE inside, hono a peer dependency), installs it into
// throwaway Node projects, one per Hono version: the newest Hono 4 and the
// oldest the peer range allows. For each Hono version it
//   - type-checks an npm consumer app with tsc (chain, refinement and global
//     forms, with expected-error cases) and runs the compiled app on Node;
//   - runs the integration scenarios on Node (@hono/node-server), Bun and
//     workerd (miniflare), each over a loopback socket;
//   - on workerd, runs SqlStore on a D1 database (miniflare's): the store
//     conformance kit inside the worker, the scenarios, D1's row limit.
// With the newest Hono it also type-checks a telemetry setup (the ./otel
// entry with the SDK's providers) and runs it on Node with the SDK,
// @hono/otel and a Prometheus scrape (tests/runtimes/otel_node.mjs); the
// tarball must import @opentelemetry/api only from the ./otel entry, as
// an optional peer dependency.
// Then it runs the store conformance suite on Node against DenoKvStore over
// @deno/kv (newest Hono), and against SqlStore on bun:sqlite under Bun.
// Ends with "N passed, M failed"; exits non-zero on any failure.
// `deno task test:runtimes`.
import { build, type Plugin } from "esbuild";

const root = new URL("../", import.meta.url).pathname;
const work = `${root}dist/runtimes`;
const decoder = new TextDecoder();

async function run(
  cmd: string,
  args: string[],
  options: { cwd?: string; quiet?: boolean; env?: Record<string, string> } = {},
): Promise<{ ok: boolean; out: string }> {
  let result: Deno.CommandOutput;
  try {
    result = await new Deno.Command(cmd, {
      args,
      cwd: options.cwd ?? work,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1", ...options.env },
    }).output();
  } catch (err) {
    // A missing program throws (NotFound) synchronously from output():
    // count it as a failed step, not a crash of the whole matrix.
    const out = `${cmd}: cannot run: ${(err as Error).message}`;
    console.log(out);
    return { ok: false, out };
  }
  const { success, stdout, stderr } = result;
  const out = decoder.decode(stdout) + decoder.decode(stderr);
  if (!options.quiet) console.log(out.trimEnd());
  return { ok: success, out };
}

let passed = 0;
let failed = 0;
function count(label: string, ok: boolean, detail = ""): void {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? "PASS" : "FAIL"} ${label}${ok ? "" : `\n${detail}`}`);
}
// Counts the PASS/FAIL lines a runner printed.
function tally(out: string, ok: boolean, label: string): void {
  const p = out.match(/^PASS /gm)?.length ?? 0;
  const f = out.match(/^FAIL /gm)?.length ?? 0;
  passed += p;
  failed += f;
  if (!ok && f === 0) count(label, false, out);
  if (p === 0 && f === 0 && ok) count(`${label} ran no scenario`, false);
}

// 1. One build.
const built = await run(Deno.execPath(), [
  "run",
  "-A",
  `${root}tools/build_npm.ts`,
], {
  cwd: root,
});
if (!built.ok) Deno.exit(1);

// 2. The package as packed: README.md, LICENSE and docs/ inside, and hono a peer
// dependency (the app's own Hono: a second copy breaks Context's type).
const tarball =
  [...Deno.readDirSync(`${root}dist`)].find((e) => e.name.endsWith(".tgz"))!
    .name;
const listing = await run("tar", ["tzf", `${root}dist/${tarball}`], {
  cwd: root,
  quiet: true,
});
const packed = new Set(listing.out.split("\n").map((line) => line.trim()));
const guides = [...Deno.readDirSync(`${root}docs`)]
  .filter((e) => e.isFile && e.name.endsWith(".md"))
  .map((e) => `package/docs/${e.name}`);
const missing = ["package/README.md", "package/LICENSE", ...guides].filter((
  file,
) => !packed.has(file));
count(
  "npm package: the tarball contains README.md, LICENSE and the guides in docs/",
  listing.ok && missing.length === 0,
  listing.ok ? `missing: ${missing.join(", ")}` : listing.out,
);
const manifestText = await run("tar", [
  "xzf",
  `${root}dist/${tarball}`,
  "-O",
  "package/package.json",
], { cwd: root, quiet: true });
let manifest: {
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
} = {};
try {
  manifest = JSON.parse(manifestText.out);
} catch { /* counted below */ }
// The oldest Hono the package claims: the floor of its peer range.
const oldestHono = /^\^(4\.\d+\.\d+)$/.exec(
  manifest.peerDependencies?.hono ?? "",
)?.[1];
count(
  "npm package: hono is a peer dependency (^4.x.y), not a dependency",
  oldestHono !== undefined && manifest.dependencies?.hono === undefined,
  manifestText.out,
);
// The ./otel entry's only dependency, @opentelemetry/api, is an optional
// peer: the app's own copy (through which its SDK is found), and nothing
// to install for apps that do not use OpenTelemetry.
const withMeta = manifest as typeof manifest & {
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
};
count(
  "npm package: @opentelemetry/api is an optional peer dependency, and no other OpenTelemetry package is needed",
  manifest.peerDependencies?.["@opentelemetry/api"] !== undefined &&
    withMeta.peerDependenciesMeta?.["@opentelemetry/api"]?.optional === true &&
    !Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies })
      .some((name) =>
        name.startsWith("@opentelemetry/") && name !== "@opentelemetry/api"
      ),
  manifestText.out,
);
// Only the ./otel entry's files import it.
const importers: string[] = [];
for (const line of listing.out.split("\n")) {
  const file = line.trim();
  if (!file.endsWith(".js")) continue;
  const text = await run("tar", ["xzf", `${root}dist/${tarball}`, "-O", file], {
    cwd: root,
    quiet: true,
  });
  if (/from\s*["']@opentelemetry\//.test(text.out)) {
    importers.push(file.replace(/^package\//, ""));
  }
}
count(
  "npm package: only otel.js and _otel/ import @opentelemetry/api",
  importers.length > 0 &&
    importers.every((f) => f === "otel.js" || f.startsWith("_otel/")),
  importers.join(", "),
);

// The build folder is not for installing: npm links a folder, and Node
// would then resolve hono and iron-webcrypto beside it, not in the app. Its
// preinstall refuses, naming the tarball to install instead.
{
  const app = await Deno.makeTempDir({ prefix: "hono-session-link-" });
  await Deno.writeTextFile(
    `${app}/package.json`,
    JSON.stringify({ private: true, type: "module" }),
  );
  const linked = await run("npm", [
    "install",
    "--no-audit",
    "--no-fund",
    `${root}dist/npm`,
  ], { cwd: app, quiet: true });
  count(
    "npm package: `npm install dist/npm` (a link) refuses, naming the tarball",
    !linked.ok && linked.out.includes(`npm install ${root}dist/${tarball}`),
    linked.out,
  );
  await Deno.remove(app, { recursive: true });
}

// 3. Throwaway Node projects: the main one with the newest Hono 4 and all
// the tools, and one with the oldest Hono the peer range allows, in a
// folder inside it, which installs only the package, that Hono and the
// Node adapter; everything else (tsc, @types/node, bun, esbuild, miniflare)
// resolves from the main project's node_modules, one level up.
await Deno.remove(work, { recursive: true }).catch(() => {});
const nodeServer = "^2.1.9";
const tsconfig = (files: string[], extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    compilerOptions: {
      target: "ES2022",
      module: "NodeNext",
      moduleResolution: "NodeNext",
      lib: ["ES2023", "DOM", "DOM.Iterable"],
      strict: true,
      skipLibCheck: false,
      types: ["node"],
      ...extra,
    },
    files,
  });
async function stageProject(dir: string): Promise<void> {
  await Deno.mkdir(`${dir}/consumer`, { recursive: true });
  for (const entry of Deno.readDirSync(`${root}tests/runtimes`)) {
    if (entry.isFile && entry.name.endsWith(".mjs")) {
      await Deno.copyFile(
        `${root}tests/runtimes/${entry.name}`,
        `${dir}/${entry.name}`,
      );
    }
  }
  for (const file of ["app.ts", "global_check.ts"]) {
    await Deno.copyFile(
      `${root}tests/runtimes/consumer/${file}`,
      `${dir}/consumer/${file}`,
    );
  }
  await Deno.writeTextFile(
    `${dir}/tsconfig.app.json`,
    tsconfig(["consumer/app.ts"], { outDir: "out" }),
  );
  await Deno.writeTextFile(
    `${dir}/tsconfig.global.json`,
    tsconfig(["consumer/global_check.ts"], { noEmit: true }),
  );
  await Deno.copyFile(
    `${root}tests/runtimes/consumer/otel_check.ts`,
    `${dir}/consumer/otel_check.ts`,
  );
  await Deno.writeTextFile(
    `${dir}/tsconfig.otel.json`,
    tsconfig(["consumer/otel_check.ts"], {
      noEmit: true,
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
    }),
  );
}
await stageProject(work);
await Deno.writeTextFile(
  `${work}/package.json`,
  JSON.stringify(
    {
      private: true,
      type: "module",
      dependencies: {
        "@x/hono-session": `file:../${tarball}`,
        "hono": "^4",
        "@hono/node-server": nodeServer,
        "@deno/kv": "^0.14.0",
        "@sinonjs/fake-timers": "^15.5.0",
        "bun": "^1.4.4",
        "esbuild": "0.25.12",
        "miniflare": "3.20250718.2",
        "typescript": "5.9.3",
        "@types/node": "^20",
        // The app's OpenTelemetry, for the ./otel entry (main project
        // only): the SDK, @hono/otel's request spans, a Prometheus scrape.
        "@opentelemetry/api": "^1.10.0",
        "@opentelemetry/sdk-metrics": "^3.1.1",
        "@opentelemetry/sdk-trace": "^3.1.1",
        "@opentelemetry/context-async-hooks": "^3.1.1",
        "@opentelemetry/exporter-prometheus": "^0.301.0",
        "@hono/otel": "^1.1.2",
      },
    },
    null,
    2,
  ),
);
const installed = await run("npm", [
  "install",
  "--no-audit",
  "--no-fund",
  "--allow-scripts=bun,esbuild,workerd",
], { quiet: true });
if (!installed.ok) {
  const retry = await run("npm", ["install", "--no-audit", "--no-fund"], {
    quiet: true,
  });
  if (!retry.ok) {
    console.log(retry.out);
    count("npm install of the throwaway project", false, retry.out);
    console.log(`${passed} passed, ${failed} failed`);
    Deno.exit(1);
  }
}

// The projects to test: the newest Hono 4 (main project) and the floor of
// the peer range, each checked to hold exactly one copy of hono, its own.
const projects: { dir: string; hono: string }[] = [];
async function honoIn(dir: string, wanted?: string): Promise<void> {
  let version = "";
  try {
    version = JSON.parse(
      await Deno.readTextFile(`${dir}/node_modules/hono/package.json`),
    ).version;
  } catch { /* reported below */ }
  const resolved = await run("node", [
    "--input-type=module",
    "-e",
    'console.log(import.meta.resolve("hono"))',
  ], { cwd: dir, quiet: true });
  const nested = await Deno.stat(
    `${dir}/node_modules/@x/hono-session/node_modules/hono`,
  ).then(() => true, () => false);
  const ok = version !== "" && (wanted === undefined || version === wanted) &&
    resolved.out.trim().startsWith(`file://${dir}/node_modules/hono/`) &&
    !nested;
  count(
    `npm project with hono ${
      version || wanted
    }: one copy of hono, the app's own`,
    ok,
    `installed ${version || "none"}, resolved ${resolved.out.trim()}${
      nested ? ", and a nested copy under @x/hono-session" : ""
    }`,
  );
  if (ok) projects.push({ dir, hono: version });
}
await honoIn(work);
if (oldestHono !== undefined && oldestHono !== projects[0]?.hono) {
  const dir = `${work}/hono-${oldestHono}`;
  await stageProject(dir);
  await Deno.writeTextFile(
    `${dir}/package.json`,
    JSON.stringify(
      {
        private: true,
        type: "module",
        dependencies: {
          "@x/hono-session": `file:../../${tarball}`,
          "hono": oldestHono,
          "@hono/node-server": nodeServer,
        },
      },
      null,
      2,
    ),
  );
  // No --legacy-peer-deps: this also proves the peer range takes it.
  const old = await run("npm", ["install", "--no-audit", "--no-fund"], {
    cwd: dir,
    quiet: true,
  });
  if (old.ok) await honoIn(dir, oldestHono);
  else count(`npm install with hono ${oldestHono}`, false, old.out);
}

// 4. For each Hono: the npm consumer (tsc, then run), and the scenarios on
// each runtime.
const tsc = `${work}/node_modules/typescript/bin/tsc`;
for (const { dir, hono } of projects) {
  const tscApp = await run("node", [tsc, "-p", "tsconfig.app.json"], {
    cwd: dir,
    quiet: true,
  });
  count(
    `npm consumer (hono ${hono}): tsc type-checks the chain form and a refining middleware (with @ts-expect-error cases)`,
    tscApp.ok,
    tscApp.out,
  );
  const tscGlobal = await run("node", [tsc, "-p", "tsconfig.global.json"], {
    cwd: dir,
    quiet: true,
  });
  count(
    `npm consumer (hono ${hono}): tsc type-checks the global form in a sub-app`,
    tscGlobal.ok,
    tscGlobal.out,
  );
  if (tscApp.ok) {
    const app = await run("node", ["out/app.js", hono], { cwd: dir });
    tally(app.out, app.ok, `npm consumer run (hono ${hono})`);
  }
  const node = await run("node", ["node.mjs", hono], { cwd: dir });
  tally(node.out, node.ok, `node scenarios (hono ${hono})`);
  // The ./otel entry, in the main project (which has the app's SDK).
  if (dir === work) {
    const tscOtel = await run("node", [tsc, "-p", "tsconfig.otel.json"], {
      cwd: dir,
      quiet: true,
    });
    count(
      `npm consumer (hono ${hono}): tsc type-checks a telemetry setup with the SDK's providers (strictest options, @ts-expect-error cases)`,
      tscOtel.ok,
      tscOtel.out,
    );
    const otel = await run("node", ["otel_node.mjs", hono], { cwd: dir });
    tally(otel.out, otel.ok, `otel on node (hono ${hono})`);
  }
  const bun = await run(`${work}/node_modules/.bin/bun`, ["bun.mjs", hono], {
    cwd: dir,
  });
  tally(bun.out, bun.ok, `bun scenarios (hono ${hono})`);
  const workerd = await run("node", ["workerd.mjs", hono], { cwd: dir });
  tally(workerd.out, workerd.ok, `workerd scenarios (hono ${hono})`);
  // SqlStore on D1 inside workerd: the conformance kit, the scenarios, the
  // row size limit.
  const d1 = await run("node", ["d1.mjs", hono], { cwd: dir });
  tally(d1.out, d1.ok, `workerd D1 (hono ${hono})`);
}

// Without a secret, the random key is said once where the environment says
// production, and never otherwise: NODE_ENV on Node and Bun (through
// process.env), a public host on workerd (newest Hono).
for (const production of [false, true]) {
  const env = { NODE_ENV: production ? "production" : "development" };
  const node = await run("node", ["random_secret.mjs", "node"], { env });
  tally(node.out, node.ok, "node random secret");
  const bun = await run(`${work}/node_modules/.bin/bun`, [
    "random_secret.mjs",
    "bun",
  ], { env });
  tally(bun.out, bun.ok, "bun random secret");
}
const randomWorkerd = await run("node", ["random_secret_workerd.mjs"]);
tally(randomWorkerd.out, randomWorkerd.ok, "workerd random secret");

// 5. The store conformance suite on Node, against DenoKvStore over
// @deno/kv, bundled onto the npm build: imports of the library's sources
// are pointed at the built files, so the library is not built twice.
const toBuild: Plugin = {
  name: "library-from-npm-build",
  setup(b) {
    b.onResolve({ filter: /\.ts$/ }, (args) => {
      const path = new URL(args.path, `file://${args.resolveDir}/`).pathname;
      const relative = path.startsWith(root) ? path.slice(root.length) : "";
      const isLibrary = relative !== "" && !relative.startsWith("tests/") &&
        !relative.startsWith("tools/") && !relative.startsWith("support/");
      return isLibrary
        ? { path: `${root}dist/npm/${relative.replace(/\.ts$/, ".js")}` }
        : undefined;
    });
  },
};
await build({
  entryPoints: [`${root}tests/runtimes/kv_node.ts`],
  bundle: true,
  format: "esm",
  platform: "node",
  outfile: `${work}/kv_node.bundle.mjs`,
  external: [
    "@deno/kv",
    "hono",
    "hono/*",
    "iron-webcrypto",
    "@sinonjs/fake-timers",
  ],
  nodePaths: [`${work}/node_modules`],
  plugins: [toBuild],
  logLevel: "error",
});
// The bundle imports hono etc. by name: run it from the project.
const kv = await run("node", [
  "--test",
  "--test-reporter=spec",
  "kv_node.bundle.mjs",
]);
const kvPass = Number(kv.out.match(/^ℹ pass (\d+)/m)?.[1] ?? 0);
const kvFail = Number(kv.out.match(/^ℹ fail (\d+)/m)?.[1] ?? (kv.ok ? 0 : 1));
passed += kvPass;
failed += kvFail;
if (kvPass === 0) {
  count("DenoKvStore conformance on Node ran no test", false, kv.out);
}

// Counts what `node --test --test-reporter=spec` or `bun test` reported.
function tallyRunner(label: string, r: { ok: boolean; out: string }): void {
  const num = (re: RegExp) => Number(r.out.match(re)?.[1] ?? 0);
  const p = num(/^ℹ pass (\d+)$/m) + num(/^\s*(\d+) pass$/m);
  const f = num(/^ℹ fail (\d+)$/m) + num(/^ℹ cancelled (\d+)$/m) +
    num(/^\s*(\d+) fail$/m);
  passed += p;
  failed += f;
  if (!r.ok && f === 0) count(`${label} failed`, false, r.out);
  if (p === 0) count(`${label} ran no test`, false, r.out);
}

// 6. The published conformance kit (@x/hono-session/testing) from the npm
// build, against MemoryStore and a Map, on Node and on Bun.
tallyRunner(
  "conformance kit on Node",
  await run("node", ["--test", "--test-reporter=spec", "testing_kit.mjs"]),
);
tallyRunner(
  "conformance kit on Bun",
  await run(`${work}/node_modules/.bin/bun`, ["test", "./testing_kit.mjs"]),
);
// 7. SqlStore on bun:sqlite, through the same kit, under bun test.
tallyRunner(
  "SqlStore on bun:sqlite",
  await run(`${work}/node_modules/.bin/bun`, ["test", "./sqlite_bun.mjs"]),
);

console.log(`${passed} passed, ${failed} failed`);
Deno.exit(failed > 0 || passed === 0 ? 1 : 0);

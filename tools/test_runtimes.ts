// The runtime matrix: builds the npm package once, installs it into a
// throwaway Node project with hono from npm, then
//   - type-checks an npm consumer app with tsc (chain and global forms,
//     with expected-error cases) and runs the compiled app on Node;
//   - runs the integration scenarios on Node (@hono/node-server), Bun and
//     workerd (miniflare), each over a loopback socket;
//   - runs the store conformance suite on Node against DenoKvStore over
//     @deno/kv.
// Ends with "N passed, M failed"; exits non-zero on any failure.
// `deno task test:runtimes`.
import { build, type Plugin } from "esbuild";

const root = new URL("../", import.meta.url).pathname;
const work = `${root}dist/runtimes`;
const decoder = new TextDecoder();

async function run(
  cmd: string,
  args: string[],
  options: { cwd?: string; quiet?: boolean } = {},
): Promise<{ ok: boolean; out: string }> {
  let result: Deno.CommandOutput;
  try {
    result = await new Deno.Command(cmd, {
      args,
      cwd: options.cwd ?? work,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
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

// 2. A throwaway Node project.
await Deno.remove(work, { recursive: true }).catch(() => {});
await Deno.mkdir(`${work}/consumer`, { recursive: true });
for (const entry of Deno.readDirSync(`${root}tests/runtimes`)) {
  if (entry.isFile && entry.name.endsWith(".mjs")) {
    await Deno.copyFile(
      `${root}tests/runtimes/${entry.name}`,
      `${work}/${entry.name}`,
    );
  }
}
for (const file of ["app.ts", "global_check.ts"]) {
  await Deno.copyFile(
    `${root}tests/runtimes/consumer/${file}`,
    `${work}/consumer/${file}`,
  );
}
const tarball =
  [...Deno.readDirSync(`${root}dist`)].find((e) => e.name.endsWith(".tgz"))!
    .name;
await Deno.writeTextFile(
  `${work}/package.json`,
  JSON.stringify(
    {
      private: true,
      type: "module",
      dependencies: {
        "@x/hono-session": `file:../${tarball}`,
        "hono": "^4.13.0",
        "@hono/node-server": "^2.1.9",
        "@deno/kv": "^0.14.0",
        "@sinonjs/fake-timers": "^15.5.0",
        "bun": "^1.4.4",
        "esbuild": "0.25.12",
        "miniflare": "3.20250718.2",
        "typescript": "5.9.3",
        "@types/node": "^20",
      },
    },
    null,
    2,
  ),
);
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
await Deno.writeTextFile(
  `${work}/tsconfig.app.json`,
  tsconfig(["consumer/app.ts"], { outDir: "out" }),
);
await Deno.writeTextFile(
  `${work}/tsconfig.global.json`,
  tsconfig(["consumer/global_check.ts"], { noEmit: true }),
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

// 3. The npm consumer: tsc, then run.
const tscApp = await run("npx", [
  "--no-install",
  "tsc",
  "-p",
  "tsconfig.app.json",
], { quiet: true });
count(
  "npm consumer: tsc type-checks the chain form (with @ts-expect-error cases)",
  tscApp.ok,
  tscApp.out,
);
const tscGlobal = await run("npx", [
  "--no-install",
  "tsc",
  "-p",
  "tsconfig.global.json",
], { quiet: true });
count(
  "npm consumer: tsc type-checks the global form in a sub-app",
  tscGlobal.ok,
  tscGlobal.out,
);
if (tscApp.ok) {
  const app = await run("node", ["out/app.js"]);
  tally(app.out, app.ok, "npm consumer run");
}

// 4. The scenarios on each runtime.
const node = await run("node", ["node.mjs"]);
tally(node.out, node.ok, "node scenarios");
const bun = await run(`${work}/node_modules/.bin/bun`, ["bun.mjs"]);
tally(bun.out, bun.ok, "bun scenarios");
const workerd = await run("node", ["workerd.mjs"]);
tally(workerd.out, workerd.ok, "workerd scenarios");

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

console.log(`${passed} passed, ${failed} failed`);
Deno.exit(failed > 0 || passed === 0 ? 1 : 0);

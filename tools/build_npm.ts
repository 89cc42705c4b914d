// Builds the npm package: ESM JavaScript plus .d.ts declarations, with
// `iron-webcrypto` as a dependency and `hono` as a peer dependency (the
// app's own Hono: a second copy would give Context two distinct types),
// `@opentelemetry/api` an optional peer dependency (only the ./otel entry
// imports it, and it must be the app's own copy: OpenTelemetry's API finds
// the app's SDK through a global that a newer copy may refuse), and
// README.md, LICENSE and the guides README links to (docs/) beside them.
// One build for every runtime test.
// Usage:
//   deno task build:npm
//   deno run -A tools/build_npm.ts [outDir]     (default: dist/npm)
// It writes a staging copy of the sources under dist/, installs TypeScript
// there from npm, runs tsc, and packs the result with `npm pack` into
// dist/x-hono-session-<version>.tgz: what a Node app installs
// (`npm install <path>/dist/x-hono-session-<version>.tgz`).
//
// The folder itself is not for installing: npm links a folder instead of
// copying it, and Node then resolves the package's imports (hono,
// iron-webcrypto) from the folder's real place, beside this repository,
// never from the app. So after packing, the folder's package.json (not
// the tarball's) gets a preinstall script that refuses a linked install
// (`npm install dist/npm`, `npm link`), saying to install the tarball.
const root = new URL("../", import.meta.url).pathname;
const out = Deno.args[0] ?? `${root}dist/npm`;
const stage = `${root}dist/stage`;

const config = JSON.parse(await Deno.readTextFile(`${root}deno.json`));
// The Hono versions this package works with. 4.9.0 added `generateCookie`
// to `hono/cookie`; 4.12.4 made it refuse a Path or Domain with ";", CR or
// LF, which session() relies on to refuse such cookie options at creation.
// `deno task test:runtimes` tests this floor and the newest Hono 4.
const HONO_PEER = "^4.12.4";
// The Hono the declarations are compiled against (the newest 4.x).
const honoForBuild = "^4.13.0";
const iron = "^2.0.0";
// The OpenTelemetry API the ./otel entry is written against (the same
// range as deno.json's import map).
const otelApi = "^1.9.0";

async function run(cmd: string, args: string[], cwd: string): Promise<void> {
  const { success, stderr, stdout } = await new Deno.Command(cmd, {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!success) {
    const text = new TextDecoder();
    throw new Error(
      `${cmd} ${args.join(" ")} failed:\n${text.decode(stdout)}${
        text.decode(stderr)
      }`,
    );
  }
}

await Deno.remove(stage, { recursive: true }).catch(() => {});
await Deno.remove(out, { recursive: true }).catch(() => {});
await Deno.mkdir(`${stage}/src/stores`, { recursive: true });

// The published sources: the local modules deno.json's exports reach, as
// `deno info` walks them (a stray file elsewhere is never built).
const sources = new Set<string>();
for (const target of Object.values(config.exports as Record<string, string>)) {
  const { stdout, success } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", target],
    cwd: root,
    stdout: "piped",
    stderr: "null",
  }).output();
  if (!success) throw new Error(`deno info ${target} failed`);
  const graph = JSON.parse(new TextDecoder().decode(stdout)) as {
    modules: { specifier: string }[];
  };
  for (const { specifier } of graph.modules) {
    if (specifier.startsWith(`file://${root}`)) {
      sources.add(specifier.slice(`file://${root}`.length));
    }
  }
}
for (const file of sources) {
  let text = await Deno.readTextFile(`${root}${file}`);
  // The augmentation names hono by its npm: specifier for Deno; npm users
  // know it as "hono".
  if (file === "_hono_context.d.ts") {
    text = text.replaceAll('"npm:hono@^4"', '"hono"').replaceAll(
      '"./session.ts"',
      '"./session.js"',
    );
  }
  const target = `${stage}/src/${file}`;
  await Deno.mkdir(target.slice(0, target.lastIndexOf("/")), {
    recursive: true,
  });
  await Deno.writeTextFile(target, text);
}

await Deno.writeTextFile(
  `${stage}/package.json`,
  JSON.stringify({ private: true, type: "module" }, null, 2),
);
await Deno.writeTextFile(
  `${stage}/tsconfig.json`,
  JSON.stringify(
    {
      compilerOptions: {
        target: "ES2022",
        module: "NodeNext",
        moduleResolution: "NodeNext",
        lib: ["ES2023", "ESNext.Disposable", "DOM", "DOM.Iterable"],
        declaration: true,
        strict: true,
        skipLibCheck: true,
        allowImportingTsExtensions: true,
        rewriteRelativeImportExtensions: true,
        outDir: out,
        rootDir: "src",
      },
      include: ["src"],
    },
    null,
    2,
  ),
);
await run("npm", [
  "install",
  "--no-audit",
  "--no-fund",
  "--silent",
  "typescript@5.9.3",
  `hono@${honoForBuild}`,
  `iron-webcrypto@${iron}`,
  `@opentelemetry/api@${otelApi}`,
  // The ./testing entry registers its cases with node:test and node:assert.
  "@types/node@^20",
], stage);
await run("npx", ["--no-install", "tsc", "-p", "."], stage);
// tsc does not copy declaration files it only references, and (since
// TypeScript 5.5) it drops a `/// <reference types="./_hono_context.d.ts" />`
// directive from the declarations it emits unless the directive carries
// `preserve="true"`: without it an npm user's c.session is untyped. Put the
// file next to the declarations, and reference it by path where tsc dropped
// the directive.
await Deno.copyFile(
  `${stage}/src/_hono_context.d.ts`,
  `${out}/_hono_context.d.ts`,
);
for (const file of ["mod.d.ts", "global.d.ts"]) {
  const text = await Deno.readTextFile(`${out}/${file}`);
  if (!text.includes("_hono_context.d.ts")) {
    await Deno.writeTextFile(
      `${out}/${file}`,
      `/// <reference path="./_hono_context.d.ts" />\n${text}`,
    );
  }
}

const entries: Record<string, string> = config.exports;
const exports: Record<string, { types: string; default: string }> = {};
for (const [name, path] of Object.entries(entries)) {
  const base = path.replace(/^\.\//, "./").replace(/\.ts$/, "");
  exports[name] = { types: `${base}.d.ts`, default: `${base}.js` };
}
await Deno.writeTextFile(
  `${out}/package.json`,
  JSON.stringify(
    {
      name: config.name,
      version: config.version,
      license: config.license,
      type: "module",
      exports,
      dependencies: { "iron-webcrypto": iron },
      peerDependencies: { hono: HONO_PEER, "@opentelemetry/api": otelApi },
      peerDependenciesMeta: { "@opentelemetry/api": { optional: true } },
    },
    null,
    2,
  ),
);
// npm pack takes README.md, LICENSE and docs/ from the package directory
// (README's links into docs/ then resolve on npm's page and in the install).
for (const file of ["README.md", "LICENSE"]) {
  await Deno.copyFile(`${root}${file}`, `${out}/${file}`);
}
await Deno.mkdir(`${out}/docs`, { recursive: true });
for (const entry of Deno.readDirSync(`${root}docs`)) {
  if (entry.isFile && entry.name.endsWith(".md")) {
    await Deno.copyFile(
      `${root}docs/${entry.name}`,
      `${out}/docs/${entry.name}`,
    );
  }
}
await run(
  "npm",
  ["pack", "--silent", "--pack-destination", `${root}dist`],
  out,
);
const tarball = `${
  (config.name as string).replace(/^@/, "").replace("/", "-")
}-${config.version}.tgz`;

// The guard against installing the folder by link (the tarball, packed
// above, has none). A copy of the folder (npm's --install-links) lives
// under node_modules, where the guard lets it through.
await Deno.writeTextFile(
  `${out}/link_guard.cjs`,
  `// Written by tools/build_npm.ts into the build folder only: the packed
// tarball has neither this file nor the preinstall script that runs it.
const path = require("node:path");
if (!__dirname.split(path.sep).includes("node_modules")) {
  const tarball = path.resolve(__dirname, "..", ${JSON.stringify(tarball)});
  console.error(
    [
      "${config.name}: this folder is the npm build, not a package to link.",
      "npm links a folder instead of copying it, and Node then looks for the",
      "package's own imports (hono, iron-webcrypto) beside this folder, not in",
      "your app: the app would fail with ERR_MODULE_NOT_FOUND. Install the",
      "tarball instead:",
      "",
      "  npm install " + tarball,
    ].join("\\n"),
  );
  process.exit(1);
}
`,
);
const manifest = JSON.parse(await Deno.readTextFile(`${out}/package.json`));
manifest.scripts = { preinstall: "node link_guard.cjs" };
await Deno.writeTextFile(
  `${out}/package.json`,
  JSON.stringify(manifest, null, 2),
);
console.log(
  `built ${config.name}@${config.version}: the package in ${out}, packed as ${root}dist/${tarball}\n` +
    `install it into a Node app with: npm install ${root}dist/${tarball}`,
);

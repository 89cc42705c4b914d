// Builds the package the way JSR's npm layer serves it: ESM JavaScript plus
// .d.ts declarations, `hono` and `iron-webcrypto` as plain dependencies.
// One build for every runtime test. Usage:
//   deno run -A tools/build_npm.ts [outDir]     (default: dist/npm)
// It writes a staging copy of the sources under dist/, installs TypeScript
// there from npm, runs tsc, and packs the result with `npm pack`.
const root = new URL("../", import.meta.url).pathname;
const out = Deno.args[0] ?? `${root}dist/npm`;
const stage = `${root}dist/stage`;

const config = JSON.parse(await Deno.readTextFile(`${root}deno.json`));
const hono = "^4.13.0";
const iron = "^2.0.0";

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
  `hono@${hono}`,
  `iron-webcrypto@${iron}`,
], stage);
await run("npx", ["--no-install", "tsc", "-p", "."], stage);
// tsc does not copy declaration files it only references, and it drops the
// `/// <reference types="./_hono_context.d.ts" />` directive from the
// declarations it emits: without it an npm user's c.session is untyped.
// Put the file next to the declarations and reference it by path.
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
      dependencies: { hono, "iron-webcrypto": iron },
    },
    null,
    2,
  ),
);
await run(
  "npm",
  ["pack", "--silent", "--pack-destination", `${root}dist`],
  out,
);
console.log(`built ${config.name}@${config.version} into ${out}`);

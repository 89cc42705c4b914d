// The layout's rules, checked on the real module graph of every export:
// no import circles (type-only imports count), mod.ts only re-exports, and
// public files never reach into tests or tooling.
import assert from "node:assert/strict";

const root = new URL("../", import.meta.url);
const config = JSON.parse(
  await Deno.readTextFile(new URL("deno.json", root)),
) as { exports: Record<string, string> };

interface Module {
  specifier: string;
  dependencies?: {
    code?: { specifier: string };
    type?: { specifier: string };
  }[];
}

async function graph(entry: string): Promise<Map<string, string[]>> {
  const { stdout, success } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: root,
    stdout: "piped",
    stderr: "null",
  }).output();
  assert.ok(success, `deno info ${entry}`);
  const { modules } = JSON.parse(new TextDecoder().decode(stdout)) as {
    modules: Module[];
  };
  const local = (s: string) => s.startsWith(root.href);
  const edges = new Map<string, string[]>();
  for (const m of modules) {
    if (!local(m.specifier)) continue;
    const to = (m.dependencies ?? [])
      .flatMap((d) => [d.code?.specifier, d.type?.specifier])
      .filter((s): s is string => s !== undefined && local(s));
    edges.set(m.specifier.slice(root.href.length), [
      ...new Set(to.map((s) => s.slice(root.href.length))),
    ]);
  }
  return edges;
}

// Every circle in `edges`, as the list of files around it.
function circles(edges: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (file: string) => {
    state.set(file, "open");
    path.push(file);
    for (const next of edges.get(file) ?? []) {
      if (state.get(next) === "open") {
        found.push([...path.slice(path.indexOf(next)), next]);
      } else if (!state.has(next)) visit(next);
    }
    path.pop();
    state.set(file, "done");
  };
  for (const file of edges.keys()) if (!state.has(file)) visit(file);
  return found;
}

for (const [name, entry] of Object.entries(config.exports)) {
  Deno.test(`layout: export "${name}" has no import circle and reaches no test or tool code`, async () => {
    const edges = await graph(entry);
    assert.deepEqual(circles(edges), []);
    for (const file of edges.keys()) {
      assert.doesNotMatch(file, /^(tests|tools|bench|support|e2e|examples)\//);
    }
  });
}

Deno.test("layout: the circle check finds a circle", () => {
  const edges = new Map([["a.ts", ["b.ts"]], ["b.ts", ["c.ts"]], [
    "c.ts",
    ["a.ts"],
  ]]);
  assert.deepEqual(circles(edges), [["a.ts", "b.ts", "c.ts", "a.ts"]]);
});

Deno.test("layout: mod.ts only re-exports", async () => {
  const text = await Deno.readTextFile(new URL("mod.ts", root));
  const code = text.replace(/\/\*\*[\s\S]*?\*\//g, "").replace(
    /^\s*\/\/.*$/gm,
    "",
  );
  for (
    const statement of code.split(";").map((s) => s.trim()).filter(Boolean)
  ) {
    assert.match(
      statement,
      /^(\/\/\/ <reference [^>]+>\s*)?export (type )?\{[^}]*\} from "[^"]+"$/,
    );
  }
});

// OpenTelemetry stays in its own export: an app that never imports
// @x/hono-session/otel loads none of it, and mod.ts keeps to Web Crypto,
// hono and iron-webcrypto.
for (const [name, entry] of Object.entries(config.exports)) {
  if (name === "./otel") {
    Deno.test("layout: the otel export reaches @opentelemetry/api (the check below can see it)", async () => {
      const { stdout } = await new Deno.Command(Deno.execPath(), {
        args: ["info", "--json", entry],
        cwd: root,
        stdout: "piped",
        stderr: "null",
      }).output();
      assert.match(
        new TextDecoder().decode(stdout),
        /npm:\/@opentelemetry\/api@/,
      );
    });
    continue;
  }
  Deno.test(`layout: export "${name}" reaches no OpenTelemetry module`, async () => {
    const { stdout, success } = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", entry],
      cwd: root,
      stdout: "piped",
      stderr: "null",
    }).output();
    assert.ok(success, `deno info ${entry}`);
    const { modules } = JSON.parse(new TextDecoder().decode(stdout)) as {
      modules: Module[];
    };
    // npm packages appear as modules `npm:/name@version`.
    const reached = modules.map((m) => m.specifier).filter((s) =>
      s.includes("@opentelemetry/") || /\/_?otel(\.ts|\/)/.test(s)
    );
    assert.deepEqual(reached, []);
  });
}

// The typing contract: each file under tests/types is type-checked on its
// own (the global augmentation must not leak into the others). Every
// `@ts-expect-error` line in them must meet a real error, or the check fails.
import assert from "node:assert/strict";
import { writeStrictConfig } from "../support/strict_config.ts";

const root = new URL("../", import.meta.url);

async function check(
  path: string,
  config?: string,
): Promise<{ ok: boolean; output: string }> {
  const { success, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["check", "--quiet", ...(config ? ["--config", config] : []), path],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    ok: success,
    output: decoder.decode(stdout) + decoder.decode(stderr),
  };
}

// Every fixture, on its own, with the default compiler options and again
// under strict, exactOptionalPropertyTypes and noUncheckedIndexedAccess.
// The checks start together when the file loads (each is its own `deno
// check` process) and each test awaits its own.
const FIXTURES = [
  "chain_check.ts",
  "global_check.ts",
  "refine_check.ts",
  "store_check.ts",
  "seed_typing_check.ts",
  "json_check.ts",
  "json_global_check.ts",
  "strict_app_check.ts",
  "otel_check.ts",
];
const strictConfig = writeStrictConfig();
const checks = new Map<string, Promise<{ ok: boolean; output: string }>>();
for (const name of FIXTURES) {
  const path = `tests/types/${name}`;
  // strict_app_check.ts is the app written for the strict flags.
  if (name !== "strict_app_check.ts") checks.set(name, check(path));
  checks.set(`${name} (strict)`, strictConfig.then((c) => check(path, c)));
}
const done = Promise.allSettled(checks.values()).then(async () => {
  const config = await strictConfig;
  await Deno.remove(config.slice(0, config.lastIndexOf("/")), {
    recursive: true,
  });
});

for (const [label, result] of checks) {
  const strict = label.endsWith(" (strict)");
  Deno.test(
    `types: tests/types/${label.replace(" (strict)", "")} type-checks${
      strict
        ? " under strict, exactOptionalPropertyTypes and noUncheckedIndexedAccess"
        : ""
    }`,
    async () => {
      const { ok, output } = await result;
      assert.ok(ok, output);
    },
  );
}
Deno.test("types: the strict config is removed", async () => {
  await done;
});

Deno.test("types: a file where an expected error does not happen fails the check", async () => {
  const file = new URL(
    "./types/_unused_expect_error_check.ts",
    import.meta.url,
  );
  await Deno.writeTextFile(
    file,
    [
      'import { Hono } from "hono";',
      'import { session } from "@x/hono-session";',
      'new Hono().use(session<{ userId?: string }>()).get("/", (c) => {',
      "  // @ts-expect-error this line is fine, so the directive is unused",
      "  const id: string | undefined = c.session.userId;",
      "  return c.text(String(id));",
      "});",
      "",
    ].join("\n"),
  );
  try {
    const { ok, output } = await check(
      "tests/types/_unused_expect_error_check.ts",
    );
    assert.equal(ok, false);
    assert.match(output, /TS2578|Unused '@ts-expect-error'/);
  } finally {
    await Deno.remove(file);
  }
});

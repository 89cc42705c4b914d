// Type-checks every published module under the strictest compiler options
// users turn on (strict, exactOptionalPropertyTypes,
// noUncheckedIndexedAccess). Part of `deno task check`.
import { writeStrictConfig } from "../support/strict_config.ts";

const root = new URL("../", import.meta.url);
const { exports } = JSON.parse(
  await Deno.readTextFile(new URL("deno.json", root)),
) as { exports: Record<string, string> };
const config = await writeStrictConfig();
try {
  const { success } = await new Deno.Command(Deno.execPath(), {
    args: ["check", "--quiet", "--config", config, ...Object.values(exports)],
    cwd: root,
  }).spawn().status;
  if (!success) {
    console.error(
      "the sources do not type-check under strict, exactOptionalPropertyTypes and noUncheckedIndexedAccess",
    );
    Deno.exit(1);
  }
  console.log(
    `strict check: ${
      Object.keys(exports).length
    } exports type-check under strict, exactOptionalPropertyTypes, noUncheckedIndexedAccess`,
  );
} finally {
  await Deno.remove(config.slice(0, config.lastIndexOf("/")), {
    recursive: true,
  });
}

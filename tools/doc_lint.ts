// Runs `deno doc --lint` on every entry of deno.json's exports and fails on
// any finding, except the known upstream one: hono's own types
// (MiddlewareHandler, Context, ...) reported as private-type-ref
// (denoland/deno#27364).
const HONO_TYPES = new Set([
  "HTTPException",
  "MiddlewareHandler",
  "Context",
  "Env",
  "Next",
  "Input",
  "HandlerResponse",
]);

const config = JSON.parse(
  await Deno.readTextFile(new URL("../deno.json", import.meta.url)),
);
const entries = Object.values(config.exports as Record<string, string>);
const { success, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
  args: ["doc", "--lint", ...entries],
  cwd: new URL("../", import.meta.url),
  env: { NO_COLOR: "1" },
  stdout: "piped",
  stderr: "piped",
}).output();
const output = new TextDecoder().decode(stdout) +
  new TextDecoder().decode(stderr);

const findings = output.split(/\n(?=error\[)/).filter((block) =>
  block.startsWith("error[")
);
const rest = findings.filter((block) => {
  const match = block.match(
    /^error\[private-type-ref\]: public type '[^']+' references private type '([^']+)'/,
  );
  return !(match && HONO_TYPES.has(match[1]));
});
console.log(
  `deno doc --lint ${entries.join(" ")}: ${findings.length} finding(s), ${
    findings.length - rest.length
  } of them hono's own types (accepted, denoland/deno#27364)`,
);
if (rest.length > 0) {
  console.error(rest.join("\n"));
  Deno.exit(1);
}
if (!success && findings.length === 0) {
  console.error(output);
  Deno.exit(1);
}

// Bun: the scenarios against Bun.serve on a loopback socket.
import { createApp, MODES } from "./app.mjs";
import { report, runScenarios } from "./scenarios.mjs";

// The Hono version under test, as tools/test_runtimes.ts passes it.
const hono = process.argv[2] ? ` hono ${process.argv[2]}` : "";

let failed = 0;
for (const mode of MODES) {
  const server = Bun.serve({
    fetch: createApp(mode).fetch,
    port: 0,
    hostname: "127.0.0.1",
  });
  try {
    failed += report(
      `bun ${Bun.version}${hono}`,
      mode,
      await runScenarios(`http://127.0.0.1:${server.port}`, mode),
    );
  } finally {
    server.stop(true);
  }
}
process.exit(failed ? 1 : 0);

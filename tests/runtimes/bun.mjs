// Bun: the scenarios against Bun.serve on a loopback socket.
import { createApp, MODES } from "./app.mjs";
import { report, runScenarios } from "./scenarios.mjs";

let failed = 0;
for (const mode of MODES) {
  const server = Bun.serve({
    fetch: createApp(mode).fetch,
    port: 0,
    hostname: "127.0.0.1",
  });
  try {
    failed += report(
      `bun ${Bun.version}`,
      mode,
      await runScenarios(`http://127.0.0.1:${server.port}`, mode),
    );
  } finally {
    server.stop(true);
  }
}
process.exit(failed ? 1 : 0);

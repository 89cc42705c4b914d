// Node: the scenarios against @hono/node-server on a loopback socket.
import { serve } from "@hono/node-server";
import { createApp, MODES } from "./app.mjs";
import { report, runScenarios } from "./scenarios.mjs";

// The Hono version under test, as tools/test_runtimes.ts passes it.
const hono = process.argv[2] ? ` hono ${process.argv[2]}` : "";

let failed = 0;
for (const mode of MODES) {
  const server = await new Promise((resolve) => {
    const s = serve({
      fetch: createApp(mode).fetch,
      port: 0,
      hostname: "127.0.0.1",
    }, () => resolve(s));
  });
  const { port } = server.address();
  try {
    failed += report(
      `node ${process.version}${hono}`,
      mode,
      await runScenarios(`http://127.0.0.1:${port}`, mode),
    );
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}
process.exit(failed ? 1 : 0);

// Throughput over real HTTP on loopback: Deno.serve with a bare Hono app
// against the same app with the session middleware (cookie mode, reading a
// session), each server in its own process, load from autocannon in this
// one. Alternating rounds of fixed duration; medians; the ratio is what
// counts on a shared 2-core machine. `deno task bench:http`.
import autocannon from "autocannon";
import { type ServerProcess, startServer } from "../support/server_process.ts";

const ROUNDS = Number(Deno.env.get("BENCH_HTTP_ROUNDS") ?? 3);
const SECONDS = Number(Deno.env.get("BENCH_HTTP_SECONDS") ?? 5);
const CONNECTIONS = 16;

function start(kind: string): Promise<ServerProcess> {
  const script = new URL("./http_server.ts", import.meta.url).pathname;
  return startServer(["--allow-net", script, kind]);
}

async function measure(kind: string): Promise<number> {
  const server = await start(kind);
  try {
    const login = await fetch(`${server.url}/login`, { method: "POST" });
    await login.body?.cancel();
    const cookie = login.headers.getSetCookie().map((c) => c.split(";")[0])
      .join("; ");
    // Check the cookie really reads the session back.
    const check =
      await (await fetch(`${server.url}/read`, { headers: { cookie } })).text();
    if (check !== "u1") throw new Error(`${kind}: read back ${check}`);
    const result = await autocannon({
      url: `${server.url}/read`,
      connections: CONNECTIONS,
      duration: SECONDS,
      headers: cookie ? { cookie } : {},
    });
    if (result.errors || result.non2xx) {
      throw new Error(
        `${kind}: ${result.errors} errors, ${result.non2xx} non-2xx`,
      );
    }
    return result.requests.average;
  } finally {
    await server.stop();
  }
}

const results: Record<string, number[]> = { bare: [], cookie: [] };
for (let round = 0; round < ROUNDS; round++) {
  for (const kind of round % 2 ? ["cookie", "bare"] : ["bare", "cookie"]) {
    results[kind].push(await measure(kind));
  }
}
const median = (xs: number[]) =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const bare = median(results.bare), cookie = median(results.cookie);
console.log(
  `HTTP on loopback, Deno.serve + autocannon (${CONNECTIONS} connections, ${SECONDS} s x ${ROUNDS} rounds each, alternating), median requests/s:`,
);
console.log(`| app | req/s | ratio |`);
console.log(`|---|---:|---:|`);
console.log(`| bare Hono | ${bare.toFixed(0)} | 100% |`);
console.log(
  `| @x/hono-session cookie mode, reading a session | ${cookie.toFixed(0)} | ${
    (cookie / bare * 100).toFixed(1)
  }% |`,
);

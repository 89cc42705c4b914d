// Throughput over real HTTP on loopback: Deno.serve with bare Hono, the
// hand-written Map floor and ours, each server in its own process, load
// from autocannon in this one. Scenarios: reading a cookie-mode session,
// and with a Map store, new sessions and writes. Alternating rounds of
// fixed duration; medians; each row as a share of bare Hono's throughput.
// `deno task bench:http`.
import autocannon from "autocannon";
import { type ServerProcess, startServer } from "../support/server_process.ts";

const ROUNDS = Number(Deno.env.get("BENCH_HTTP_ROUNDS") ?? 3);
const SECONDS = Number(Deno.env.get("BENCH_HTTP_SECONDS") ?? 5);
const CONNECTIONS = 16;

/** What is measured: a server kind, a path, and whether it sends a session. */
interface Cell {
  scenario: string;
  kind: string;
  path: string;
  withCookie: boolean;
}

const cells: Cell[] = [
  { scenario: "cookie read", kind: "bare", path: "/read", withCookie: false },
  {
    scenario: "cookie read",
    kind: "ours-cookie",
    path: "/read",
    withCookie: true,
  },
  { scenario: "Map new", kind: "bare", path: "/new", withCookie: false },
  { scenario: "Map new", kind: "floor-map", path: "/new", withCookie: false },
  { scenario: "Map new", kind: "ours-map", path: "/new", withCookie: false },
  { scenario: "Map write", kind: "bare", path: "/write", withCookie: false },
  {
    scenario: "Map write",
    kind: "floor-map",
    path: "/write",
    withCookie: true,
  },
  { scenario: "Map write", kind: "ours-map", path: "/write", withCookie: true },
];

function start(kind: string): Promise<ServerProcess> {
  const script = new URL("./http_server.ts", import.meta.url).pathname;
  return startServer(["--allow-net", script, kind]);
}

async function measure(cell: Cell): Promise<number> {
  const server = await start(cell.kind);
  try {
    let cookie = "";
    if (cell.withCookie) {
      const first = await fetch(`${server.url}/new`);
      await first.body?.cancel();
      cookie = first.headers.getSetCookie().map((c) => c.split(";")[0])
        .join("; ");
      const check = await (await fetch(`${server.url}/read`, {
        headers: { cookie },
      })).text();
      if (check !== "u1") throw new Error(`${cell.kind}: read back ${check}`);
    }
    const result = await autocannon({
      url: `${server.url}${cell.path}`,
      connections: CONNECTIONS,
      duration: SECONDS,
      headers: cookie ? { cookie } : {},
    });
    if (result.errors || result.non2xx) {
      throw new Error(
        `${cell.kind} ${cell.path}: ${result.errors} errors, ${result.non2xx} non-2xx`,
      );
    }
    return result.requests.average;
  } finally {
    await server.stop();
  }
}

const results = new Map<Cell, number[]>();
for (let round = 0; round < ROUNDS; round++) {
  // Alternate the order each round, so no contender always runs first.
  for (const cell of round % 2 ? [...cells].reverse() : cells) {
    results.set(cell, [...(results.get(cell) ?? []), await measure(cell)]);
  }
}
const median = (xs: number[]) =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(
  `HTTP on loopback, Deno ${Deno.version.deno}, Deno.serve + autocannon (${CONNECTIONS} connections, ${SECONDS} s x ${ROUNDS} rounds each, alternating), median requests/s (min-max):`,
);
console.log(`| scenario | server | req/s | of bare |`);
console.log(`|---|---|---:|---:|`);
const shares: Record<string, number> = {};
for (const cell of cells) {
  const xs = results.get(cell)!;
  const bare = median(
    results.get(
      cells.find((c) => c.scenario === cell.scenario && c.kind === "bare")!,
    )!,
  );
  const share = median(xs) / bare;
  shares[`${cell.scenario}|${cell.kind}`] = share;
  console.log(
    `| ${cell.scenario} | ${cell.kind} | ${median(xs).toFixed(0)} (${
      Math.min(...xs).toFixed(0)
    }-${Math.max(...xs).toFixed(0)}) | ${(share * 100).toFixed(1)}% |`,
  );
}
console.log("");
console.log("Targets (issue 13):");
for (
  const [what, key, limit] of [
    ["Map new >= 80% of bare", "Map new|ours-map", 0.8],
    ["Map write >= 85% of bare", "Map write|ours-map", 0.85],
  ] as const
) {
  const share = shares[key]!;
  console.log(
    `- ${what}: ${(share * 100).toFixed(1)}% ${
      share >= limit ? "met" : "MISSED"
    }`,
  );
}

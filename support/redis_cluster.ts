// A real Redis Cluster for tests and benchmarks: three (or more) masters,
// each a redis-server with cluster mode on (on loopback ports below 55536:
// a node's cluster bus listens on its port + 10000), joined as
// `redis-cli --cluster create ... --cluster-replicas 0` would join them,
// and stopped and removed by whoever started it. It needs only
// redis-server: the few commands that build the cluster are sent here
// directly. Outside CI a machine without redis-server skips the cluster
// tests (with an install hint); under CI=true they fail instead.
import { RedisServer } from "./redis_server.ts";

export {
  redisAvailable as redisClusterAvailable,
  redisMissing as redisClusterMissing,
  redisRequired as redisClusterRequired,
} from "./redis_server.ts";

/** Redis Cluster's number of hash slots. */
const SLOTS = 16_384;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A RESP reply: a status or bulk string, an integer, nil, or an array. */
export type Reply = string | number | null | Reply[];

/**
 * Sends one command to the server on `port` and returns its reply; an
 * error reply throws.
 */
export async function command(
  port: number,
  args: readonly string[],
): Promise<Reply> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    let out = `*${args.length}\r\n`;
    for (const arg of args) {
      out += `$${encoder.encode(arg).length}\r\n${arg}\r\n`;
    }
    await conn.write(encoder.encode(out));
    let bytes = new Uint8Array(0);
    const buf = new Uint8Array(64 * 1024);
    for (;;) {
      const reply = parse(bytes, 0);
      if (reply !== undefined) return reply.value;
      const n = await conn.read(buf);
      if (n === null) throw new Error(`redis ${args[0]}: connection closed`);
      const grown = new Uint8Array(bytes.length + n);
      grown.set(bytes);
      grown.set(buf.subarray(0, n), bytes.length);
      bytes = grown;
    }
  } finally {
    conn.close();
  }
}

// The reply starting at `at`, and where it ends, if `bytes` holds all of it.
function parse(
  bytes: Uint8Array,
  at: number,
): { value: Reply; end: number } | undefined {
  const eol = bytes.indexOf(0x0a, at);
  if (eol < 0) return undefined;
  const head = decoder.decode(bytes.subarray(at + 1, eol - 1));
  const next = eol + 1;
  switch (bytes[at]) {
    case 0x2b: // +
      return { value: head, end: next };
    case 0x2d: // -
      throw new Error(`redis: ${head}`);
    case 0x3a: // :
      return { value: Number(head), end: next };
    case 0x24: { // $
      const length = Number(head);
      if (length < 0) return { value: null, end: next };
      if (bytes.length < next + length + 2) return undefined;
      const value = decoder.decode(bytes.subarray(next, next + length));
      return { value, end: next + length + 2 };
    }
    case 0x2a: { // *
      const count = Number(head);
      if (count < 0) return { value: null, end: next };
      const items: Reply[] = [];
      let end = next;
      for (let i = 0; i < count; i++) {
        const item = parse(bytes, end);
        if (item === undefined) return undefined;
        items.push(item.value);
        end = item.end;
      }
      return { value: items, end };
    }
    default:
      throw new Error(`redis: unexpected reply ${JSON.stringify(head)}`);
  }
}

// A loopback port that is free, and whose bus port (+10000) is free too.
function freeClusterPort(): number {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 35_000); // < 55536
    const listeners: Deno.Listener[] = [];
    try {
      listeners.push(Deno.listen({ hostname: "127.0.0.1", port }));
      listeners.push(
        Deno.listen({ hostname: "127.0.0.1", port: port + 10_000 }),
      );
      return port;
    } catch {
      // taken: try another
    } finally {
      for (const l of listeners) l.close();
    }
  }
  throw new Error("no free port pair (port and port + 10000) below 55536");
}

let shared: Promise<RedisCluster> | undefined;

/** One master of a running cluster. */
export interface ClusterNode {
  host: string;
  port: number;
  /** `redis://127.0.0.1:<port>`. */
  url: string;
}

/** A running Redis Cluster of masters on loopback, with no replicas. */
export class RedisCluster {
  readonly #servers: RedisServer[];

  private constructor(servers: RedisServer[]) {
    this.#servers = servers;
  }

  /** The masters, for a client's seed list. */
  get nodes(): ClusterNode[] {
    return this.#servers.map((s) => ({
      host: "127.0.0.1",
      port: s.port,
      url: s.url,
    }));
  }

  /**
   * Starts `masters` nodes (at least 3, as Redis Cluster wants), joins
   * them into one cluster with the slots spread evenly, and resolves once
   * every node reports `cluster_state:ok` and knows every other.
   */
  static async start({ masters = 3 } = {}): Promise<RedisCluster> {
    if (!Number.isInteger(masters) || masters < 3) {
      throw new RangeError("RedisCluster: at least 3 masters");
    }
    const cluster = new RedisCluster([]);
    await cluster.#boot(masters);
    return cluster;
  }

  async #boot(masters: number): Promise<void> {
    const servers = this.#servers;
    try {
      while (servers.length < masters) {
        try {
          servers.push(
            await RedisServer.start({
              durable: false,
              port: freeClusterPort(),
              args: [
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                "nodes.conf",
                "--cluster-node-timeout",
                "5000",
              ],
            }),
          );
        } catch (error) {
          // Another process took the port between the check and the start.
          if (!String(error).includes("was the port taken")) throw error;
        }
      }
      await this.#join();
      await this.#ready();
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  // What `redis-cli --cluster create` does, without its one-second waits:
  // each node gets an even share of the slots and its own config epoch,
  // and the first node meets the others.
  async #join(): Promise<void> {
    const n = this.#servers.length;
    for (const [i, server] of this.#servers.entries()) {
      const from = Math.floor((SLOTS * i) / n);
      const to = Math.floor((SLOTS * (i + 1)) / n) - 1;
      await command(server.port, [
        "CLUSTER",
        "ADDSLOTSRANGE",
        String(from),
        String(to),
      ]);
      await command(server.port, [
        "CLUSTER",
        "SET-CONFIG-EPOCH",
        String(i + 1),
      ]);
    }
    const [first, ...others] = this.#servers;
    for (const other of others) {
      await command(first!.port, [
        "CLUSTER",
        "MEET",
        "127.0.0.1",
        String(other.port),
      ]);
    }
  }

  // Waits until every node sees the whole cluster, every slot served.
  async #ready(): Promise<void> {
    const deadline = Date.now() + 20_000;
    for (const server of this.#servers) {
      for (;;) {
        const info = String(await command(server.port, ["CLUSTER", "INFO"]));
        if (
          info.includes("cluster_state:ok") &&
          info.includes(`cluster_known_nodes:${this.#servers.length}`)
        ) break;
        if (Date.now() > deadline) {
          throw new Error(
            `the cluster did not become ready on port ${server.port}: ${info}`,
          );
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }

  /** Sends one command to master `node` (an index into `nodes`). */
  async command(node: number, args: readonly string[]): Promise<Reply> {
    const server = this.#servers[node];
    if (server === undefined) throw new RangeError(`no node ${node}`);
    return await command(server.port, args);
  }

  /** How many keys each master holds, in the order of `nodes`. */
  async keysPerNode(): Promise<number[]> {
    return await Promise.all(
      this.#servers.map(async (s) => Number(await command(s.port, ["DBSIZE"]))),
    );
  }

  /**
   * The keys matching `pattern` (`KEYS`) on each master, in the order of
   * `nodes`.
   */
  async keys(pattern = "*"): Promise<string[][]> {
    return await Promise.all(
      this.#servers.map(async (s) =>
        (await command(s.port, ["KEYS", pattern]) as string[]) ?? []
      ),
    );
  }

  /** Deletes every key on every master. */
  async flush(): Promise<void> {
    await Promise.all(this.#servers.map((s) => command(s.port, ["FLUSHALL"])));
  }

  /**
   * One cluster for the whole test process, started on first use and
   * stopped when the process unloads: a cluster takes about two seconds to
   * start (a new master waits that long before it takes writes), too long
   * to start one per test. Tests sharing it keep apart with key prefixes of
   * their own.
   */
  static shared(): Promise<RedisCluster> {
    if (shared === undefined) {
      const cluster = new RedisCluster([]);
      shared = cluster.#boot(3).then(() => cluster);
      // Synchronous: an unload listener cannot wait.
      globalThis.addEventListener("unload", () => cluster.#stopNow());
    }
    return shared;
  }

  #stopNow(): void {
    for (const server of this.#servers) server.stopNow();
  }

  /** Stops every node and removes its data. */
  async stop(): Promise<void> {
    await Promise.all(this.#servers.map((s) => s.stop()));
  }
}

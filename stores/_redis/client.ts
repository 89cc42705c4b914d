// The Redis clients RedisStore drives, told apart by shape (this package
// imports none of them), each turned into one way of sending a command:
// ioredis (`new Redis()` and `new Cluster()`, both with `call`), node-redis
// (`createClient()`, `sendCommand(args)`) and node-redis's cluster client
// (`createCluster()`, `sendCommand(firstKey, isReadonly, args)`). Anything
// else is refused when the store is created, with what was expected.
import { lacksErrorListener } from "../../_lib/error_listener.ts";

/**
 * Sends one command. `key` is the command's key: a cluster client sends
 * the command to the master serving the key's slot.
 */
export type Send = (key: string, args: string[]) => Promise<unknown>;

/** How to talk to the app's client, and whether it is a cluster client. */
export interface Commands {
  send: Send;
  /** The client spreads keys over the masters of a Redis Cluster. */
  cluster: boolean;
  /**
   * What the client puts before every key it sends (ioredis `keyPrefix`),
   * and so before every key in Redis; a script that builds a key from its
   * arguments must put it there too.
   */
  keyPrefix: string;
}

interface Shape {
  call?: (command: string, ...args: string[]) => Promise<unknown>;
  sendCommand?: (...args: unknown[]) => Promise<unknown>;
  isCluster?: unknown;
  options?: { scaleReads?: unknown; keyPrefix?: unknown };
  getSlotMaster?: unknown;
  getSentinelNode?: unknown;
  listenerCount?: unknown;
}

const EXPECTED =
  "pass a connected ioredis client (new Redis() or new Cluster(), with call()) or node-redis client (createClient() or createCluster(), with sendCommand())";

/**
 * How to send commands through `client`.
 *
 * @throws {TypeError} When the client is none of the supported ones, or one
 *   the store cannot use as it is configured.
 */
export function commandsOf(client: unknown): Commands {
  if (client === null || typeof client !== "object") {
    throw new TypeError(`RedisStore: ${EXPECTED}`);
  }
  const c = client as Shape;
  if (typeof c.call === "function") {
    const call = c.call.bind(c);
    const cluster = c.isCluster === true;
    // A Cluster with scaleReads "slave" or "all" sends reads to replicas,
    // which lag behind the masters: a request could read a session that
    // was just signed out, or miss one just signed in.
    const reads = c.options?.scaleReads;
    if (cluster && reads !== undefined && reads !== "master") {
      throw new TypeError(
        `RedisStore: this ioredis Cluster reads from replicas (scaleReads: ${
          typeof reads === "string" ? `"${reads}"` : typeof reads
        }), which lag behind the masters; sessions must be read where they are written: give the store a Cluster with scaleReads: "master" (the default)`,
      );
    }
    const keyPrefix = c.options?.keyPrefix ?? "";
    if (typeof keyPrefix !== "string") {
      throw new TypeError(
        `RedisStore: this ioredis client's keyPrefix is a ${typeof keyPrefix}; give it a string, or leave it out and use RedisStore's prefix option`,
      );
    }
    return {
      cluster,
      keyPrefix,
      send: (_key, [command = "", ...args]) =>
        call(command, ...args).catch(explain),
    };
  }
  if (typeof c.sendCommand === "function") {
    if (typeof c.getSentinelNode === "function") {
      throw new TypeError(
        `RedisStore: node-redis Sentinel clients (createSentinel()) are not supported; ${EXPECTED}`,
      );
    }
    // node-redis emits "error" when a connection drops; with nobody
    // listening, Node ends the whole process on the first one.
    if (lacksErrorListener(c)) {
      throw new TypeError(
        'RedisStore: this node-redis client has no "error" listener, so the first dropped connection would crash the process; add client.on("error", (err) => console.error(err)) before creating the store',
      );
    }
    const sendCommand = c.sendCommand.bind(c);
    if (typeof c.getSlotMaster === "function") {
      // Always the master (isReadonly false): replicas lag behind.
      return {
        cluster: true,
        keyPrefix: "",
        send: (key, args) => sendCommand(key, false, args),
      };
    }
    return {
      cluster: false,
      keyPrefix: "",
      send: (_key, args) => sendCommand(args).catch(explain),
    };
  }
  throw new TypeError(`RedisStore: ${EXPECTED}`);
}

// A single-node client pointed at a node of a Redis Cluster gets MOVED for
// every key that node does not serve: say what to do instead.
function explain(error: unknown): never {
  const message = error instanceof Error ? error.message : "";
  if (/^(MOVED|ASK) /.test(message)) {
    throw new Error(
      `RedisStore: Redis answered "${message}": this server is a node of a Redis Cluster; give the store a cluster client (ioredis new Cluster(), node-redis createCluster())`,
      { cause: error },
    );
  }
  throw error;
}

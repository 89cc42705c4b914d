// The two cluster clients the RedisStore tests drive, connected to a real
// cluster (support/redis_cluster.ts) as docs/stores.md sets them up: each with
// default options apart from failing fast, and an "error" listener.
import { createCluster } from "redis";
import { Cluster } from "ioredis";
import type { RedisCluster } from "../../support/redis_cluster.ts";

/** A connected cluster client. */
export interface ClusterClient {
  /** The client itself, as the app would hand it to RedisStore. */
  client: ReturnType<typeof createCluster> | Cluster;
  /** Sends one raw command (routed by its first key), past the store. */
  send(key: string, args: string[]): Promise<unknown>;
  close(): Promise<void>;
}

async function nodeRedisCluster(cluster: RedisCluster): Promise<ClusterClient> {
  const client = createCluster({
    rootNodes: cluster.nodes.map(({ url }) => ({ url })),
    defaults: { disableOfflineQueue: true },
  });
  client.on("error", () => {});
  await client.connect();
  return {
    client,
    send: (key, args) => client.sendCommand(key, false, args),
    close: async () => void await client.close(),
  };
}

async function ioredisCluster(cluster: RedisCluster): Promise<ClusterClient> {
  const client = new Cluster(
    cluster.nodes.map(({ host, port }) => ({ host, port })),
    { redisOptions: { maxRetriesPerRequest: 0 } },
  );
  client.on("error", () => {});
  if (client.status !== "ready") {
    await new Promise((resolve) => client.once("ready", resolve));
  }
  return {
    client,
    send: (_key, [command = "", ...args]) => client.call(command, ...args),
    close: () => Promise.resolve(client.disconnect()),
  };
}

/** Each cluster client by name. */
export const clusterClients = [
  ["node-redis createCluster", nodeRedisCluster],
  ["ioredis Cluster", ioredisCluster],
] as const;

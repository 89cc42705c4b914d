// Clients that emit "error" (node-redis, node-postgres) end the whole
// process on an error nobody listens to: the stores refuse them.

/** Whether `client` is an event emitter with no "error" listener. */
export function lacksErrorListener(client: unknown): boolean {
  const emitter = client as { listenerCount?(event: string): number };
  return typeof emitter.listenerCount === "function" &&
    emitter.listenerCount("error") === 0;
}

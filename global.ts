/**
 * Import this module once, anywhere in the app, to make `c.session` typed in
 * every handler, including sub-apps that never see the middleware in their
 * type chain. Then declare your values by augmenting the `Session` interface.
 *
 * @example
 * ```ts
 * import "@x/hono-session/global";
 *
 * declare module "@x/hono-session" {
 *   interface Session {
 *     userId?: string;
 *   }
 * }
 * ```
 *
 * @module
 */
/// <reference types="./_hono_context.d.ts" preserve="true" />

export type { Session } from "./mod.ts";

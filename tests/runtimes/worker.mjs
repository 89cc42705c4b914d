// The Cloudflare Worker: every mode under its own path.
import { createAllApp } from "./app.mjs";

const app = createAllApp();
export default { fetch: (request, env, ctx) => app.fetch(request, env, ctx) };

// A browser's cookie jar for the conformance kit: sends a request to a Hono
// app with the cookies it holds and keeps what the response sets.

/** What an app needs to be driven by a {@linkcode Jar}. */
export interface Fetcher {
  request(path: string, init?: RequestInit): Response | Promise<Response>;
}

/** A cookie jar that plays the browser for a sequence of requests. */
export class Jar {
  readonly cookies: Map<string, string> = new Map();
  readonly #app: Fetcher;

  constructor(app: Fetcher) {
    this.#app = app;
  }

  /** Sends a request with the jar's cookies (unless `init` sets some) and keeps the new ones. */
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0 && !headers.has("cookie")) {
      headers.set("cookie", this.header());
    }
    const res = await this.#app.request(path, { ...init, headers });
    for (const raw of res.headers.getSetCookie()) {
      const [pair = "", ...attributes] = raw.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const gone = attributes.some((a) => /^\s*max-age\s*=\s*0\s*$/i.test(a));
      if (gone) this.cookies.delete(name);
      else {
        this.cookies.set(name, decodeURIComponent(pair.slice(eq + 1).trim()));
      }
    }
    return res;
  }

  /** Sends a request and returns its status and body text. */
  async text(path: string, init?: RequestInit): Promise<[number, string]> {
    const res = await this.fetch(path, init);
    return [res.status, await res.text()];
  }

  /** The Cookie header the jar sends. */
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
      .join("; ");
  }

  /** The value of cookie `name`, if the jar holds it. */
  get(name: string): string | undefined {
    return this.cookies.get(name);
  }
}

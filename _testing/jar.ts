// A browser's cookie jar for the conformance kit: sends a request to a Hono
// app with the cookies it holds and keeps what the response sets.

/** What an app needs to be driven by a {@linkcode Jar}. */
export interface Fetcher {
  request(path: string, init?: RequestInit): Response | Promise<Response>;
}

/** A cookie jar that plays the browser for a sequence of requests. */
export class Jar {
  readonly cookies: Map<string, string> = new Map();
  /** With `maxAge`: when each cookie that has a Max-Age expires. */
  readonly expires: Map<string, number> = new Map();
  readonly #app: Fetcher;
  readonly #maxAge: boolean;

  /**
   * @param maxAge Drop each cookie once its Max-Age has passed, as a
   *   browser does. Off, the jar keeps every cookie until it is cleared
   *   (Max-Age=0), as a client replaying a copied cookie would.
   */
  constructor(app: Fetcher, options?: { maxAge?: boolean }) {
    this.#app = app;
    this.#maxAge = options?.maxAge ?? false;
  }

  /** Drops the cookies past their Max-Age (with `maxAge`). */
  #expire(): void {
    const now = Date.now();
    for (const [name, at] of this.expires) {
      if (at > now) continue;
      this.cookies.delete(name);
      this.expires.delete(name);
    }
  }

  /** Sends a request with the jar's cookies (unless `init` sets some) and keeps the new ones. */
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.#maxAge) this.#expire();
    if (this.cookies.size > 0 && !headers.has("cookie")) {
      headers.set("cookie", this.header());
    }
    const res = await this.#app.request(path, { ...init, headers });
    this.keep(res);
    return res;
  }

  /**
   * Keeps the cookies `res` sets (and drops those it clears), as a browser
   * does with a response: for a response that came to another jar.
   */
  keep(res: Response): void {
    for (const raw of res.headers.getSetCookie()) {
      const [pair = "", ...attributes] = raw.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const gone = attributes.some((a) => /^\s*max-age\s*=\s*0\s*$/i.test(a));
      this.expires.delete(name);
      if (gone) this.cookies.delete(name);
      else {
        this.cookies.set(name, decodeURIComponent(pair.slice(eq + 1).trim()));
        const age = attributes.map((a) =>
          /^\s*max-age\s*=\s*(\d+)\s*$/i.exec(a)
        )
          .find((m) => m !== null);
        if (this.#maxAge && age) {
          this.expires.set(name, Date.now() + Number(age[1]) * 1000);
        }
      }
    }
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
    if (this.#maxAge) this.#expire();
    return this.cookies.get(name);
  }
}

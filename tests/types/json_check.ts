// Session values are JSON: the generic of session() accepts the shapes JSON
// keeps (optional fields, nested objects, arrays, unions with null,
// interfaces) and refuses, where it is written, one holding a value JSON
// would change or drop. A refining middleware's Session variable is checked
// the same way: such a value reads as the reason, so writing it fails.
import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { type JsonSafe, session, type SessionValues } from "@x/hono-session";

// Ordinary shapes stay easy.
interface Profile {
  id: number;
  name: string;
  email?: string;
  avatar: string | null;
  roles: readonly ("admin" | "editor")[];
  address?: { city: string; lines: string[] };
  pair: [string, number];
}
type Tree = { label: string; children: Tree[] };
new Hono()
  .use(session<{ profile?: Profile; tree?: Tree; seen: number[] }>())
  .get("/", (c) => {
    const city: string | undefined = c.session.profile?.address?.city;
    c.session.seen.push(Date.now());
    c.session.profile = {
      id: 1,
      name: "Ada",
      avatar: null,
      roles: ["admin"],
      pair: ["a", 1],
    };
    return c.text(city ?? "-");
  });
session<Profile>();
session<{ anything: unknown; loose: any; record: Record<string, unknown> }>();
session<
  { maybe: string | undefined; json: Record<string, JsonSafe<number>> }
>();
session();
const checked: SessionValues<Profile> = {
  id: 1,
  name: "Ada",
  avatar: null,
  roles: [],
  pair: ["a", 1],
};
checked.email = "ada@example.com";

// What JSON would not keep fails where the shape is written.
// @ts-expect-error a Date is not JSON
session<{ when?: Date }>();
// @ts-expect-error a Date, even beside null
session<{ when: Date | null }>();
// @ts-expect-error deep inside an array of objects
session<{ a: { b: { at: Date }[] } }>();
// @ts-expect-error a Map is not JSON
session<{ m: Map<string, number> }>();
// @ts-expect-error a Set is not JSON
session<{ s: Set<string> }>();
// @ts-expect-error a function is not JSON
session<{ f: () => void }>();
// @ts-expect-error a class is not JSON
session<{ k: typeof Hono }>();
// @ts-expect-error a bigint is not JSON
session<{ n: bigint }>();
// @ts-expect-error a symbol is not JSON
session<{ s: symbol }>();
declare const key: unique symbol;
// @ts-expect-error a symbol key is not JSON
session<{ [key]: string }>();
// A class instance, as the type checker sees one: data and methods.
interface Account {
  id: string;
  rename(id: string): void;
}
// @ts-expect-error a class instance with methods is not JSON
session<{ account: Account }>();
// @ts-expect-error undefined in an array comes back as null
session<{ list: (string | undefined)[] }>();
// @ts-expect-error a Promise is not JSON
session<{ p: Promise<string> }>();
// @ts-expect-error binary data is not JSON
session<{ bytes: Uint8Array }>();
// @ts-expect-error the shape itself must be an object
session<string>();

// Refinement: a Session variable holding a Date reads as the reason.
const refined = createMiddleware<{ Variables: { Session: { paidAt: Date } } }>(
  async (_c, next) => await next(),
);
new Hono()
  .use(session<{ userId?: string }>())
  .get("/paid", refined, (c) => {
    // @ts-expect-error a Date cannot be written
    c.session.paidAt = new Date();
    // @ts-expect-error nor flashed
    c.session.flash("paidAt", new Date());
    const id: string | undefined = c.session.userId;
    return c.text(id ?? "-");
  });

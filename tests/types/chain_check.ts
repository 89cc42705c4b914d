// Typing contract 1: the generic of session() types c.session, c.get and
// c.var along the chain; c.session = null is allowed.
import { Hono } from "hono";
import { session } from "@x/hono-session";

new Hono()
  .use(session<{ userId?: string; cart: string[]; notice?: string }>())
  .get("/", (c) => {
    const a: string | undefined = c.session.userId;
    const b: string | undefined = c.get("session").userId;
    const d: string | undefined = c.var.session.userId;
    const cart: string[] = c.session.cart;
    // @ts-expect-error userId may be undefined
    const e: string = c.session.userId;
    // @ts-expect-error not declared
    c.session.nope;
    // @ts-expect-error wrong type
    c.session.userId = 1;
    c.session.userId = "u";
    c.session.flash("notice", "saved");
    // @ts-expect-error flash checks the value's type
    c.session.flash("notice", 42);
    // @ts-expect-error flash checks the key
    c.session.flash("other", "x");
    // @ts-expect-error API members are not values to flash
    c.session.flash("isNew", true);
    c.session.renew();
    c.session.renew(60);
    c.session.regenerate();
    c.session.reflash();
    const changed: boolean = c.session.hasChanged;
    const fresh: boolean = c.session.isNew;
    // @ts-expect-error read-only
    c.session.isNew = true;
    c.session = { userId: "x" };
    c.session = null;
    c.set("session", null);
    return c.text(`${a}${b}${d}${cart}${e}${changed}${fresh}`);
  });

// Without a generic, any key is allowed and its value is unknown.
new Hono().use(session()).get("/", (c) => {
  const v: unknown = c.session.anything;
  // @ts-expect-error unknown is not a string
  const s: string = c.session.anything;
  c.session.count = 1;
  return c.text(`${v}${s}`);
});

// Interfaces work as the generic too.
interface Data {
  id: number;
}
new Hono().use(session<Data>()).get(
  "/",
  (c) => c.text(String(c.session.id + 1)),
);

// Session values are JSON, in the global form too: an augmentation cannot
// be refused where it is written, so a value JSON would not keep reads as
// the reason and writing it fails to type-check; JSON values stay as
// declared.
import "@x/hono-session/global";
import { Hono } from "hono";
import { session } from "@x/hono-session";

declare module "@x/hono-session" {
  interface Session {
    userId?: string;
    cart?: { sku: string; quantity: number }[];
    lastSeen?: Date;
    tags?: Set<string>;
  }
}

new Hono().use(session()).get("/", (c) => {
  c.session.userId = "u-42";
  c.session.cart = [{ sku: "a", quantity: 1 }];
  const quantity: number | undefined = c.session.cart[0]?.quantity;
  // @ts-expect-error a Date cannot be written
  c.session.lastSeen = new Date();
  // @ts-expect-error nor a Set
  c.session.tags = new Set(["a"]);
  // @ts-expect-error nor flashed
  c.session.flash("lastSeen", new Date());
  c.session.flash("userId", "u-43");
  return c.text(String(quantity));
});

// Session values must survive JSON exactly. This finds the first value that
// would not, and says where it is, before anything is saved. The walk keeps
// its own stack: a value nested deeper than the call stack allows is checked
// like any other.

function describe(value: unknown): string {
  if (value === undefined) return "undefined";
  if (typeof value === "bigint") return "a BigInt";
  if (typeof value === "symbol") return "a symbol";
  if (typeof value === "function") return "a function";
  if (typeof value === "number") return String(value);
  const proto = Object.getPrototypeOf(value);
  const name = proto?.constructor?.name;
  return name ? `a ${name}` : "an object with a custom prototype";
}

function join(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key)
    ? (path ? `${path}.${key}` : key)
    : `${path}[${JSON.stringify(key)}]`;
}

/** An object or array being walked: where it sits, and how far the walk got. */
interface Frame {
  value: object;
  /** Its key in its parent ("" for the root). */
  key: string | number;
  /** A plain object's own string keys; undefined for an array. */
  keys: string[] | undefined;
  next: number;
}

/** What is wrong, and the key under the innermost frame it concerns (none: the frame itself). */
type Problem = [what: string, key?: string | number];

// What is wrong with a value other than an object or array, or undefined.
function primitiveProblem(value: unknown): string | undefined {
  switch (typeof value) {
    case "string":
    case "boolean":
    case "object": // null
      return undefined;
    case "number":
      if (!Number.isFinite(value)) return describe(value);
      // JSON has no negative zero: -0 comes back as 0.
      return value === 0 && 1 / value < 0
        ? "-0 (JSON writes it as 0)"
        : undefined;
    default:
      return describe(value);
  }
}

// JSON keeps an array's items and nothing else. Its own property names are
// the items that exist, "length", and anything else (enumerable or not): one
// more name than items means nothing else, or as many holes as other
// properties (the walk finds the holes). Items that are accessors are
// refused as the walk reaches each one.
function arrayProblem(array: unknown[]): Problem | undefined {
  if (Object.getPrototypeOf(array) !== Array.prototype) {
    return [describe(array)];
  }
  if (Object.getOwnPropertySymbols(array).length > 0) {
    return ["an array with symbol keys"];
  }
  const names = Object.getOwnPropertyNames(array);
  if (names.length === array.length + 1) return undefined;
  for (let i = 0; i < array.length; i++) {
    if (!(i in array)) return ["an empty array slot", i];
  }
  for (const name of names) {
    if (name !== "length" && String(Number(name) >>> 0) !== name) {
      return ["an array property that is not an item", name];
    }
  }
  return undefined;
}

// JSON keeps a plain object's own enumerable string keys, read through any
// getter. Symbol keys are refused here; non-enumerable properties (dropped)
// and accessors (turned into data) as the walk reaches each property.
function objectProblem(value: object): string | undefined {
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return describe(value);
  if (Object.getOwnPropertySymbols(value).length > 0) {
    return "an object with symbol keys";
  }
  return undefined;
}

function pathOf(stack: Frame[], key?: string | number): string {
  let path = "";
  for (let i = 1; i < stack.length; i++) path = join(path, stack[i]!.key);
  return key === undefined ? path : join(path, key);
}

function onStack(stack: Frame[], value: object): boolean {
  for (let i = 0; i < stack.length; i++) {
    if (stack[i]!.value === value) return true;
  }
  return false;
}

/** The deepest nesting a walk met, and the top-level key it was under. */
interface Deepest {
  depth: number;
  key: string | number;
}

/** Nesting from which JSON.stringify may run out of stack. */
const DEEP = 1000;

/** Path length from which a Set, not a scan of the path, finds cycles. */
const LONG_PATH = 32;

// Returns [path, what is wrong] for the first bad value, or undefined.
function find(
  root: Record<string, unknown>,
  deepest: Deepest,
): [string, string] | undefined {
  // The stack holds the objects on the path to the current value: a cycle
  // meets one of them again. Once the path is long they are in a Set too.
  // (The same object twice side by side is fine: JSON copies it.)
  const stack: Frame[] = [];
  let open: Set<object> | undefined;
  let value: object = root;
  let key: string | number = "";
  for (;;) {
    // `value` is an object or array: check it, then walk into it.
    if (open ? open.has(value) : onStack(stack, value)) {
      return [pathOf(stack, key), "a circular reference"];
    }
    const array = Array.isArray(value);
    const problem = array
      ? arrayProblem(value as unknown[])
      : objectProblem(value);
    stack.push({
      value,
      key,
      // The root is the session's own object: only plain data properties
      // ever reach it (the proxy refuses the rest), so its enumerable keys
      // are all it has.
      keys: array
        ? undefined
        : stack.length === 0
        ? Object.keys(value)
        : Object.getOwnPropertyNames(value),
      next: 0,
    });
    if (typeof problem === "string") return [pathOf(stack), problem];
    if (problem) return [pathOf(stack, problem[1]), problem[0]];
    if (open) open.add(value);
    else if (stack.length === LONG_PATH) {
      open = new Set(stack.map((frame) => frame.value));
    }
    if (stack.length > deepest.depth) {
      deepest.depth = stack.length;
      deepest.key = stack[1]?.key ?? "";
    }
    // Check the values that follow, up to the next object or array to walk
    // into, leaving the objects that are done.
    for (;;) {
      const top = stack[stack.length - 1];
      if (top === undefined) return undefined;
      const keys = top.keys;
      let item: unknown;
      if (keys === undefined) {
        const items = top.value as unknown[];
        if (top.next === items.length) {
          stack.pop();
          open?.delete(items);
          continue;
        }
        key = top.next++;
        // A hole can hide behind an extra property in the key count.
        const descriptor = Object.getOwnPropertyDescriptor(items, key);
        if (descriptor === undefined) {
          return [pathOf(stack, key), "an empty array slot"];
        }
        if (!("value" in descriptor)) {
          return [
            pathOf(stack, key),
            "an accessor property (a getter or setter)",
          ];
        }
        item = descriptor.value;
      } else {
        if (top.next === keys.length) {
          stack.pop();
          open?.delete(top.value);
          continue;
        }
        key = keys[top.next++]!;
        if (stack.length === 1) {
          // The session's own object: plain data properties only.
          item = (top.value as Record<string, unknown>)[key];
        } else {
          const descriptor = Object.getOwnPropertyDescriptor(top.value, key)!;
          if (!descriptor.enumerable) {
            return [pathOf(stack, key), "a non-enumerable property"];
          }
          if (!("value" in descriptor)) {
            return [
              pathOf(stack, key),
              "an accessor property (a getter or setter)",
            ];
          }
          item = descriptor.value;
        }
        // An undefined property is the same as an absent one: JSON drops
        // it and reading it back gives undefined again.
        if (item === undefined) continue;
      }
      if (typeof item === "object" && item !== null) {
        value = item;
        break;
      }
      const what = primitiveProblem(item);
      if (what !== undefined) return [pathOf(stack, key), what];
    }
  }
}

function refuse(path: string, what: string): never {
  throw new TypeError(
    `session value "${path}" is ${what}, which does not survive JSON; store strings, finite numbers, booleans, null, plain objects and arrays (a Date as date.toISOString(), for example)`,
  );
}

/**
 * Serialises session values, throwing a TypeError that names the key when a
 * value would not come back from JSON exactly as it is. `data` is the
 * session's own values object, whose properties are plain, enumerable data
 * properties under string keys (the session proxy lets nothing else in);
 * values below it are checked in full.
 */
export function stringifyData(data: Record<string, unknown>): string {
  // Most sessions hold only strings, numbers, booleans and null: one pass
  // over the keys checks those, with nothing to walk into.
  const keys = Object.keys(data);
  let flat = true;
  for (let i = 0; i < keys.length; i++) {
    const item = data[keys[i]!];
    if (typeof item === "object" && item !== null) {
      flat = false;
      break;
    }
    if (typeof item === "string" || item === undefined) continue;
    const what = primitiveProblem(item);
    if (what !== undefined) refuse(join("", keys[i]!), what);
  }
  if (flat) return JSON.stringify(data);
  const deepest: Deepest = { depth: 0, key: "" };
  const problem = find(data, deepest);
  if (problem) refuse(...problem);
  // The values object has no prototype, which sends V8 to its recursive
  // JSON.stringify (about 5,000 levels at most); for a deep value, a plain
  // copy takes the iterative fast path, which goes far deeper. Objects
  // without a prototype further down still take the recursive one, and
  // other engines have their own limits: when a deep value overflows the
  // stack there, say so instead of leaking a RangeError.
  const deep = deepest.depth > DEEP;
  try {
    return JSON.stringify(deep ? { ...data } : data);
  } catch (error) {
    if (!deep) throw error;
    throw new TypeError(
      `session value "${pathOf([], deepest.key)}" is nested ${
        (deepest.depth - 1).toLocaleString("en-US")
      } levels deep, deeper than JSON.stringify can go here; store it flatter`,
      { cause: error },
    );
  }
}

// Session values must survive JSON exactly. This finds the first value that
// would not, and says where it is, before anything is saved.

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

// Returns [path, what is wrong] for the first bad value, or undefined.
function find(
  value: unknown,
  path: string,
  ancestors: unknown[],
): [string, string] | undefined {
  switch (typeof value) {
    case "string":
    case "boolean":
      return undefined;
    case "number":
      return Number.isFinite(value) ? undefined : [path, describe(value)];
    case "object":
      break;
    default:
      return [path, describe(value)];
  }
  if (value === null) return undefined;
  if (ancestors.includes(value)) return [path, "a circular reference"];
  ancestors.push(value);
  try {
    if (Array.isArray(value)) {
      if (Object.getPrototypeOf(value) !== Array.prototype) {
        return [path, describe(value)];
      }
      for (let i = 0; i < value.length; i++) {
        if (!(i in value)) return [join(path, i), "an empty array slot"];
        const problem = find(value[i], join(path, i), ancestors);
        if (problem) return problem;
      }
      return undefined;
    }
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      return [path, describe(value)];
    }
    if (Object.getOwnPropertySymbols(value).length > 0) {
      return [path, "an object with symbol keys"];
    }
    for (const key of Object.keys(value)) {
      const item = (value as Record<string, unknown>)[key];
      // An undefined property is the same as an absent one: JSON drops it
      // and reading it back gives undefined again.
      if (item === undefined) continue;
      const problem = find(item, join(path, key), ancestors);
      if (problem) return problem;
    }
    return undefined;
  } finally {
    ancestors.pop();
  }
}

/**
 * Serialises session values, throwing a TypeError that names the key when a
 * value would not come back from JSON exactly as it is.
 */
export function stringifyData(data: Record<string, unknown>): string {
  const problem = find(data, "", []);
  if (problem) {
    const [path, what] = problem;
    throw new TypeError(
      `session value "${path}" is ${what}, which does not survive JSON; store strings, finite numbers, booleans, null, plain objects and arrays (a Date as date.toISOString(), for example)`,
    );
  }
  return JSON.stringify(data);
}

// Every relative link in the documentation resolves: README.md, SECURITY.md,
// bench/README.md and the guides in docs/ link to each other's files and
// headings, and a section that moves or is renamed must take its links along.
// Anchors are made from headings the way GitHub makes them (github-slugger,
// duplicates numbered -1, -2, ...); code blocks and code spans are skipped.
import assert from "node:assert/strict";
import GithubSlugger from "github-slugger";

const root = new URL("../", import.meta.url);

/** A link that does not resolve, where it is and why. */
interface Broken {
  file: string;
  line: number;
  target: string;
  reason: string;
}

/** The text with fenced code blocks blanked out, same offsets. */
function unfenced(text: string): string {
  const blank = (s: string) => s.replace(/[^\n]/g, " ");
  let fence: string | undefined;
  const lines = text.split("\n").map((line) => {
    const opener = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence === undefined) {
      if (opener === undefined) return line;
      fence = opener;
      return blank(line);
    }
    if (
      opener !== undefined && opener[0] === fence[0] &&
      opener.length >= fence.length && line.trim() === opener
    ) {
      fence = undefined;
    }
    return blank(line);
  });
  return lines.join("\n");
}

/** The text with fenced code blocks and code spans blanked out, same offsets. */
function prose(text: string): string {
  // Code spans may wrap over lines; a run of n backticks closes on n.
  return unfenced(text).replace(
    /(`+)[^`][\s\S]*?\1/g,
    (s) => s.replace(/[^\n]/g, " "),
  );
}

/** The anchors a file's headings make on GitHub. */
function anchors(text: string): Set<string> {
  const slugger = new GithubSlugger();
  const found = new Set<string>();
  for (const line of unfenced(text).split("\n")) {
    const heading = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line);
    if (heading === null) continue;
    found.add(slugger.slug(plain(heading[1]!)));
  }
  return found;
}

/** A heading's text as GitHub renders it: no link syntax, no markup. */
function plain(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/<[^>]+>/g, "")
    .replace(/[`*]/g, "");
}

async function exists(url: URL): Promise<boolean> {
  try {
    await Deno.stat(url);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** The links of `files` (paths under `base`) that do not resolve. */
async function brokenLinks(base: URL, files: string[]): Promise<Broken[]> {
  const anchorsOf = new Map<string, Set<string>>();
  const anchorsAt = async (url: URL) => {
    let set = anchorsOf.get(url.href);
    if (set === undefined) {
      set = anchors(await Deno.readTextFile(url));
      anchorsOf.set(url.href, set);
    }
    return set;
  };
  const broken: Broken[] = [];
  for (const file of files) {
    const url = new URL(file, base);
    const text = prose(await Deno.readTextFile(url));
    const links = [
      ...text.matchAll(/\]\(\s*<?([^()\s<>]+)>?(?:\s+"[^"]*")?\s*\)/g),
      ...text.matchAll(/^ {0,3}\[[^\]]+\]:\s*<?([^\s<>]+)>?/gm),
    ];
    for (const link of links) {
      const target = link[1]!;
      if (/^[a-z][a-z0-9+.-]*:|^\/\//i.test(target)) continue; // absolute
      const line = text.slice(0, link.index).split("\n").length;
      const hash = target.indexOf("#");
      const path = hash === -1 ? target : target.slice(0, hash);
      const anchor = hash === -1 ? undefined : target.slice(hash + 1);
      const to = path === "" ? url : new URL(path, url);
      const report = (reason: string) =>
        broken.push({ file, line, target, reason });
      if (!(await exists(to))) {
        report("no such file");
      } else if (anchor !== undefined) {
        if (!to.pathname.endsWith(".md")) {
          report("an anchor into a file that is not markdown");
        } else if (!(await anchorsAt(to)).has(decodeURIComponent(anchor))) {
          report("no heading there makes this anchor");
        }
      }
    }
  }
  return broken;
}

/** The documentation this test holds to its links. */
async function documentation(): Promise<string[]> {
  const files = ["README.md", "SECURITY.md", "bench/README.md"];
  for await (const entry of Deno.readDir(new URL("docs/", root))) {
    if (entry.isFile && entry.name.endsWith(".md")) {
      files.push(`docs/${entry.name}`);
    }
  }
  return files.sort();
}

Deno.test("docs: every relative link and #anchor in the documentation resolves", async () => {
  const files = await documentation();
  assert.ok(files.some((f) => f.startsWith("docs/")), "docs/ holds the guides");
  const broken = await brokenLinks(root, files);
  assert.deepEqual(
    broken.map((b) => `${b.file}:${b.line}: ${b.target}: ${b.reason}`),
    [],
  );
});

Deno.test("docs: the link check finds a missing file, a missing anchor, and skips code", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const base = new URL(`file://${dir}/`);
    await Deno.mkdir(new URL("docs/", base));
    await Deno.writeTextFile(
      new URL("docs/guide.md", base),
      [
        "# The guide",
        "## `MemoryStore`",
        "## Queries",
        "## Queries",
        "```md",
        "## Inside a fence",
        "```",
      ].join("\n"),
    );
    await Deno.writeTextFile(
      new URL("README.md", base),
      [
        "# Front: page",
        "[ok](docs/guide.md#memorystore), [ok](docs/guide.md#queries-1),",
        "[ok](#front-page) [ok](https://example.com/x.md#nothing) [ok](docs/)",
        "[gone](docs/gone.md) and [no anchor](docs/guide.md#inside-a-fence),",
        "[wrapped",
        "text](#nowhere) `[in code](missing.md)`",
        "```",
        "[in a fence](missing.md)",
        "```",
        "[ref]: docs/guide.md#queries-2",
      ].join("\n"),
    );
    const broken = await brokenLinks(base, ["README.md"]);
    assert.deepEqual(
      broken.map((b) => `${b.line} ${b.target} ${b.reason}`),
      [
        "4 docs/gone.md no such file",
        "4 docs/guide.md#inside-a-fence no heading there makes this anchor",
        "6 #nowhere no heading there makes this anchor",
        "10 docs/guide.md#queries-2 no heading there makes this anchor",
      ],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * The README and docs/*.md point only at files of this repository that exist: every relative
 * markdown link (and its #anchor, when it names a heading of a markdown file), and every file
 * path the text mentions (`src/log/bit-flip.ts`, `../x/y.md`). A path is fine when, taken from
 * the repository's root or from the document's own directory, it names a file inside the
 * repository; built files (`dist/x.js`) count when their source (`src/x.ts`) exists.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const DOCUMENTS = [
  "README.md",
  ...readdirSync(join(ROOT, "docs"))
    .filter((name) => name.endsWith(".md"))
    .map((name) => `docs/${name}`),
];

/** `[text](target)` and `![alt](target "title")`. */
const MARKDOWN_LINK = /!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g;
/** A path with at least one directory and a file extension, not part of a URL or a longer path. */
const PATH_MENTION = /(?<![\w:/.@-])((?:\.\.?\/)*(?:[\w.-]+\/)+[\w.-]+\.(?:md|ts|mts|js|mjs|json|yml|yaml|sh|txt))(?![\w/])/g;
const URL_SCHEME = /^[a-z][a-z0-9+.-]*:/i;

function isInsideRepository(path: string): boolean {
  const fromRoot = relative(ROOT, path);
  return fromRoot !== "" && !fromRoot.startsWith("..") && !isAbsolute(fromRoot);
}

/** The source a built file comes from: dist/cli/main.js is built from src/cli/main.ts. */
function sourceOf(path: string): string {
  const fromRoot = relative(ROOT, path);
  if (!fromRoot.startsWith(`dist/`)) return path;
  return join(ROOT, "src", fromRoot.slice("dist/".length).replace(/\.d\.ts$|\.js$/, ".ts"));
}

/** GitHub's anchors of a markdown file's headings: lower case, punctuation dropped, spaces as dashes, repeats numbered. */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (line.startsWith("```")) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading === null) continue;
    const slug = (heading[1] as string)
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

function lineOf(text: string, index: number): number {
  return text.slice(0, index).split("\n").length;
}

/** What is wrong with one relative link, or undefined when it resolves. */
function checkLink(document: string, target: string): string | undefined {
  const [pathPart = "", anchor] = target.split("#", 2);
  const path = pathPart === "" ? join(ROOT, document) : resolve(ROOT, dirname(document), decodeURIComponent(pathPart));
  if (!isInsideRepository(path)) return `${target} points outside the repository`;
  if (!existsSync(path)) return `${target}: no such file in the repository`;
  if (anchor === undefined || !path.endsWith(".md")) return undefined;
  return headingAnchors(readFileSync(path, "utf8")).has(anchor) ? undefined : `${target}: no heading with anchor #${anchor}`;
}

/** What is wrong with a mentioned path, or undefined when it names a file of the repository. */
function checkMention(document: string, mention: string): string | undefined {
  const candidates = [resolve(ROOT, mention), resolve(ROOT, dirname(document), mention)];
  const inside = candidates.filter(isInsideRepository);
  if (inside.length === 0) return `${mention} is outside the repository`;
  if (inside.some((path) => existsSync(sourceOf(path)))) return undefined;
  return `${mention}: no such file in the repository${inside.length < candidates.length ? " (from the root it is outside it)" : ""}`;
}

function problemsOf(document: string): string[] {
  const text = readFileSync(join(ROOT, document), "utf8");
  const problems: string[] = [];
  for (const match of text.matchAll(MARKDOWN_LINK)) {
    const target = match[1] as string;
    if (URL_SCHEME.test(target)) continue;
    const problem = checkLink(document, target);
    if (problem !== undefined) problems.push(`${document}:${lineOf(text, match.index)}: ${problem}`);
  }
  for (const match of text.matchAll(PATH_MENTION)) {
    const problem = checkMention(document, match[1] as string);
    if (problem !== undefined) problems.push(`${document}:${lineOf(text, match.index)}: ${problem}`);
  }
  return problems;
}

test("every relative link and file path in README.md and docs/*.md names a file inside the repository", (t) => {
  const problems = DOCUMENTS.flatMap(problemsOf);
  t.diagnostic(`checked ${DOCUMENTS.length} documents: ${DOCUMENTS.join(", ")}`);
  assert.deepEqual(problems, []);
});

test("the link check catches a link to a missing file, one outside the repository, and a missing anchor", () => {
  assert.match(checkLink("docs/guarantees.md", "missing.md") ?? "", /no such file/);
  assert.match(checkLink("docs/guarantees.md", "../../elsewhere/DESIGN.md") ?? "", /outside the repository/);
  assert.match(checkLink("README.md", "docs/format.md#no-such-heading") ?? "", /no heading/);
  assert.equal(checkLink("README.md", "docs/format.md"), undefined);
  assert.match(checkMention("docs/guarantees.md", "../../shared/DESIGN.md") ?? "", /outside the repository/);
  assert.match(checkMention("README.md", "src/log/no-such-file.ts") ?? "", /no such file/);
  assert.equal(checkMention("README.md", "dist/cli/main.js"), undefined);
});

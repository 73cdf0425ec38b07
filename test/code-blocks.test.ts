import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkCodeBlocks, extractBlocks, runCodeBlocks, userDocs, type CodeBlocksReport } from "../scripts/check-code-blocks.mjs";

// The checker of the docs' code blocks (pnpm run check:code-blocks): what it reports, on
// markdown written here. One program for all the documents, as the checker runs.
const fence = "```";
const guide = [
  "# Guide", //                                                           1
  "", //                                                                  2
  `${fence}ts`, //                                                        3
  'import { pipe } from "@sluice/dsl";', //                               4
  "const n: number = (await pipe([1, 2]).toArray()).length;", //          5
  `${fence}`, //                                                          6
  "", //                                                                  7
  "<!-- check: prelude stand-ins -->", //                                 8
  `${fence}typescript`, //                                                9
  "const total: number = ids.length;", //                                 10
  'const wrong: number = "one";', //                                      11
  `${fence}`, //                                                          12
  "", //                                                                  13
  `${fence}ts`, //                                                        14
  "const again = n;", //                                                  15
  `${fence}`, //                                                          16
  "", //                                                                  17
  "<!-- check: skip pseudo-code, not TypeScript -->", //                  18
  `${fence}ts`, //                                                        19
  "for each x in stage: wait", //                                         20
  `${fence}`, //                                                          21
  "", //                                                                  22
  "<!-- check: file double.ts -->", //                                    23
  `${fence}ts`, //                                                        24
  "export const double = (x: number): number => x * 2;", //               25
  `${fence}`, //                                                          26
  "", //                                                                  27
  "<!-- check: module ./seed.js = examples/seed.ts -->", //               28
  `${fence}ts`, //                                                        29
  'import { double } from "./double.js";', //                             30
  'import { main } from "./seed.js";', //                                 31
  "const four: number = double(2);", //                                   32
  "const result: Promise<{ data: number[] }> = main(() => {});", //       33
  `${fence}`, //                                                          34
  "", //                                                                  35
  `${fence}sh`, //                                                        36
  "npx -y pnpm@10 test", //                                               37
  `${fence}`, //                                                          38
].join("\n");

let preludeDir: string;
let report: CodeBlocksReport;

beforeAll(() => {
  preludeDir = mkdtempSync(join(tmpdir(), "sluice-preludes-"));
  writeFileSync(join(preludeDir, "stand-ins.ts"), "// ids of things\ndeclare const ids: string[];\n");
  report = checkCodeBlocks([{ path: "docs/guide.md", text: guide }], { preludeDir });
  // Building a TypeScript program is seconds of synchronous CPU: under a loaded full run it outgrew the 10 s default.
}, 60_000);

afterAll(() => rmSync(preludeDir, { recursive: true, force: true }));

describe("checking the TypeScript blocks of the docs", () => {
  it("a block that does not type-check is an error with the markdown file, its line and column, and TypeScript's message", () => {
    expect(report.errors).toContain("docs/guide.md:11:7: error TS2322: Type 'string' is not assignable to type 'number'.");
  });

  it("a prelude's stand-ins are declared for its block, and the block's lines keep their markdown numbers", () => {
    expect(report.errors.filter((error) => error.startsWith("docs/guide.md:10:"))).toEqual([]);
    expect(report.errors.some((error) => error.includes("stand-ins.ts"))).toBe(false);
  });

  it("each block is a module of its own: top-level await works, and a name of another block is unknown", () => {
    expect(report.errors.filter((error) => error.startsWith("docs/guide.md:5:"))).toEqual([]);
    expect(report.errors).toContain("docs/guide.md:15:15: error TS2304: Cannot find name 'n'.");
  });

  it("a block named with file is imported by another, and module maps a repository file to the name a block imports", () => {
    expect(report.errors.filter((error) => /^docs\/guide\.md:(2[3-9]|3[0-4])[:\s]/.test(error))).toEqual([]);
  });

  it("reports exactly those errors, and counts the skipped block and the blocks in other languages", () => {
    expect(report.errors).toHaveLength(2);
    expect(report.checked.map((block) => block.line)).toEqual([3, 9, 14, 24, 29]);
    expect(report.skipped.map((block) => [block.line, block.skip])).toEqual([[19, "pseudo-code, not TypeScript"]]);
    expect(report.otherLanguages).toEqual({ sh: 1 });
    expect([...report.preludesUsed]).toEqual(["stand-ins"]);
    expect(report.runnable).toEqual([]);
  });
});

describe("blocks marked run", () => {
  const runnable = [
    "<!-- check: run -->", //                                                        1
    `${fence}ts`, //                                                                 2
    'import { pipe } from "@sluice/dsl";', //                                        3
    "const doubled = await pipe([3, 1, 2]).map(async (x) => x * 2, { workers: 3 }).ordered();", // 4
    'console.log(doubled.join(","));', //                                            5
    `${fence}`, //                                                                   6
    "", //                                                                           7
    "<!-- check: prelude stand-ins; run -->", //                                     8
    `${fence}ts`, //                                                                 9
    "console.log(ids.length);", //                                                   10
    `${fence}`, //                                                                   11
    "", //                                                                           12
    "<!-- check: run -->", //                                                        13
    `${fence}ts`, //                                                                 14
    'await Promise.reject(new Error("the block failed on purpose"));', //            15
    `${fence}`, //                                                                   16
    "", //                                                                           17
    `${fence}ts`, //                                                                 18
    'throw new Error("not marked run, so never run");', //                           19
    `${fence}`, //                                                                   20
  ].join("\n");
  const hanging = ["<!-- check: run -->", `${fence}ts`, "setInterval(() => {}, 1_000);", fence].join("\n");

  it("runs exactly the marked blocks, in a process each, behind their preludes, and reports those that fail", async () => {
    const checked = checkCodeBlocks([{ path: "docs/run.md", text: runnable }], { preludeDir });
    expect(checked.errors).toEqual([]);
    expect(checked.runnable.map(({ block }) => block.line)).toEqual([2, 9, 14]);
    const { errors, ran } = await runCodeBlocks(checked.runnable);
    expect(ran.map(({ block }) => block.line)).toEqual([2, 9, 14]);
    expect(ran[0]?.output).toBe("6,2,4\n");
    expect(errors).toHaveLength(2);
    // A prelude's stand-in is only declared: the block that uses it fails when it runs.
    expect(errors[0]).toMatch(/^docs\/run\.md:9: the block marked run exited with 1:\n[^]*ReferenceError: ids is not defined/);
    expect(errors[1]).toMatch(/^docs\/run\.md:14: the block marked run exited with 1:\n[^]*the block failed on purpose/);
  });

  it("a block that leaves a timer behind does not exit by itself, and fails", async () => {
    const checked = checkCodeBlocks([{ path: "docs/hang.md", text: hanging }], { preludeDir });
    const { errors } = await runCodeBlocks(checked.runnable, { timeoutMs: 2_000 });
    expect(errors).toEqual(["docs/hang.md:2: the block marked run did not exit within 2000 ms (no output)"]);
  });

  it("run cannot be combined with skip, file or module", () => {
    const text = ["<!-- check: run; skip not yet -->", `${fence}ts`, "const a = 1;", fence].join("\n");
    expect(extractBlocks("mixed.md", text).problems).toEqual([
      "mixed.md:1: a block marked run cannot be marked skip, file or module: it runs alone, behind its preludes",
    ]);
  });
});

describe("the documents checked", () => {
  it("are the README, the package READMEs, docs/*.md and every guide in docs/guides", () => {
    const guides = readdirSync(join(import.meta.dirname, "..", "docs", "guides")).filter((name) => name.endsWith(".md"));
    expect(guides.length).toBeGreaterThan(5);
    expect(userDocs()).toEqual(expect.arrayContaining(["README.md", "docs/behaviour.md", ...guides.map((name) => `docs/guides/${name}`)]));
  });
});

describe("the recipes", () => {
  it("are five whole programs, each type-checked (none skipped), at least two of them run", () => {
    const text = readFileSync(join(import.meta.dirname, "..", "docs", "guides", "recipes.md"), "utf8");
    const { blocks, problems } = extractBlocks("docs/guides/recipes.md", text);
    expect(problems).toEqual([]);
    const recipes = text.replace(/^```[^]*?^```\s*$/gm, "").match(/^## .+$/gm) ?? [];
    expect(recipes).toHaveLength(5);
    const typescript = blocks.filter((block) => block.language === "ts");
    expect(typescript).toHaveLength(5);
    expect(typescript.filter((block) => block.skip !== undefined)).toEqual([]);
    expect(typescript.filter((block) => block.run).length).toBeGreaterThanOrEqual(2);
  });
});

describe("markers and fences", () => {
  it("a marker away from a TypeScript fence, an unknown directive and a block without a language are problems", () => {
    const text = [
      "<!-- check: prelude users -->", // 1: followed by text, not a fence
      "Some text.",
      "<!-- check: prelude users -->", // 3: before a sh block
      `${fence}sh`,
      "ls",
      fence,
      "<!-- check: preload users -->", // 7: misspelt
      `${fence}ts`,
      "const x = 1;",
      fence,
      fence, // 11: no language
      "plain",
      fence,
    ].join("\n");
    const { problems } = extractBlocks("bad.md", text);
    expect(problems).toEqual([
      "bad.md:1: a check marker must be on the line right before a ```ts fence",
      "bad.md:3: a check marker before a ```sh block; only TypeScript blocks are checked",
      'bad.md:7: unknown check directive "preload users" (expected "prelude <name>[, <name>]", "file <name>.ts", ' +
        '"module ./<name>.js = <repository path>.ts", "skip <reason>" or "run")',
      "bad.md:11: a code block without a language (write ```ts, ```sh, ```text, ...)",
    ]);
  });

  it("a fence indented in a list item, and a longer fence around a shorter one", () => {
    const text = ["- item", "", "  ```ts", "  const a = 1;", "  ```", "", "````ts", "```", "const b = 2;", "````"].join("\n");
    const { blocks, problems } = extractBlocks("list.md", text);
    expect(problems).toEqual([]);
    expect(blocks.map((block) => [block.line, block.code])).toEqual([
      [3, "const a = 1;"],
      [7, "```\nconst b = 2;"],
    ]);
  });
});

// The README and the guides are read on GitHub and on the typedoc site: their relative links
// must name files that exist and anchors that a heading makes on both (typedoc drops inline
// code from a heading's anchor and table of contents, GitHub keeps it: so no code in headings).
describe("the README's and the guides' links and headings", () => {
  const root = join(import.meta.dirname, "..");
  const guides = readdirSync(join(root, "docs", "guides")).filter((name) => name.endsWith(".md")).map((name) => `docs/guides/${name}`);
  const pages = ["README.md", ...guides];
  // The reference pages are on the site too (children of the guides' "Reference" page).
  const reference = ["docs/behaviour.md", "docs/design.md", "docs/benchmarks.md"];
  const read = (path: string) => readFileSync(join(root, path), "utf8");
  const prose = (text: string) => text.replace(/^(`{3,}|~{3,})[^]*?^\1\s*$/gm, "");
  const headings = (text: string) => [...prose(text).matchAll(/^#{1,6} (.+)$/gm)].map((match) => match[1]!.trim());
  const githubAnchors = (text: string) => {
    const seen = new Map<string, number>();
    return new Set(headings(text).map((heading) => {
      const slug = heading.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-");
      const count = seen.get(slug) ?? 0;
      seen.set(slug, count + 1);
      return count === 0 ? slug : `${slug}-${count}`;
    }));
  };
  const links = (path: string) =>
    [...prose(read(path)).matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1]!).filter((url) => !/^[a-z]+:/.test(url));

  it("no heading has inline code", () => {
    const withCode = [...pages, ...reference].flatMap((path) => headings(read(path)).filter((heading) => heading.includes("`")).map((heading) => `${path}: ${heading}`));
    expect(withCode).toEqual([]);
  });

  it("every relative link names a file that exists, and a heading of it when it has an anchor", () => {
    const broken: string[] = [];
    for (const path of pages) {
      for (const url of links(path)) {
        const [file, anchor] = url.split("#") as [string, string | undefined];
        const target = file === "" ? path : join(dirname(path), file);
        if (!existsSync(join(root, target))) broken.push(`${path}: ${url} (no ${target})`);
        else if (anchor !== undefined && target.endsWith(".md") && !githubAnchors(read(target)).has(anchor)) broken.push(`${path}: ${url} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });

  it("every guide is linked from the README, and listed as a child of the guides' index (but the index and the reference page)", () => {
    const fromReadme = new Set(links("README.md").map((url) => url.split("#")[0]));
    expect(guides.filter((path) => !fromReadme.has(path))).toEqual([]);
    const children = /^children:\n((?:\s+- .+\n)+)/m.exec(read("docs/guides/index.md"))?.[1] ?? "";
    const listed = [...children.matchAll(/- (.+)/g)].map((match) => `docs/guides/${match[1]!.trim()}`);
    const pagesOfTheirOwn = ["docs/guides/index.md", "docs/guides/reference.md"];
    expect([...listed].sort()).toEqual(guides.filter((path) => !pagesOfTheirOwn.includes(path)).sort());
  });
});

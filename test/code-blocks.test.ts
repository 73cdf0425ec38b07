import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkCodeBlocks, extractBlocks, type CodeBlocksReport } from "../scripts/check-code-blocks.mjs";

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
        '"module ./<name>.js = <repository path>.ts" or "skip <reason>")',
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

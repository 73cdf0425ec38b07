/** A fenced code block of a markdown file, with the check directives of its marker. */
export interface CodeBlock {
  /** The markdown file, relative to the repository. */
  readonly path: string;
  /** The line of the opening fence (1-based). */
  readonly line: number;
  /** The fence's language: `ts`, `sh`, ..., or `""`. */
  readonly language: string;
  /** Prelude names (`scripts/code-block-preludes/<name>.ts`), in order. */
  readonly preludes: readonly string[];
  /** Repository files the block imports under another name (`./progress.js`). */
  readonly modules: readonly { readonly specifier: string; readonly target: string }[];
  /** The module name other blocks of the same file import it by, if any. */
  readonly fileName: string | undefined;
  /** Why the block is not checked, if it is marked skip. */
  readonly skip: string | undefined;
  /** Whether the block is marked run: run by node after the type check. */
  readonly run: boolean;
  /** The block's text, without the fences. */
  readonly code: string;
}

/** The fenced code blocks of one markdown text, and the problems of its markers and fences. */
export declare function extractBlocks(path: string, text: string): { blocks: CodeBlock[]; problems: string[] };

/** What {@link checkCodeBlocks} found. */
export interface CodeBlocksReport {
  /** One line per problem: `file:line:column: error TS…: message`, or a marker problem. */
  readonly errors: readonly string[];
  readonly checked: readonly CodeBlock[];
  readonly skipped: readonly CodeBlock[];
  /** Blocks in other languages, by language. */
  readonly otherLanguages: Readonly<Record<string, number>>;
  readonly preludesUsed: ReadonlySet<string>;
  /** The blocks marked run, each with its module text (preludes, then the block). */
  readonly runnable: readonly RunnableBlock[];
}

/** A block marked run, with the TypeScript module that runs it. */
export interface RunnableBlock {
  readonly block: CodeBlock;
  readonly text: string;
}

/** What {@link runCodeBlocks} found. */
export interface RunReport {
  /** One line per block that failed: `file:line: ...`, with the end of its output. */
  readonly errors: readonly string[];
  /** Every block run, in the order given, with its stdout and stderr interleaved. */
  readonly ran: readonly { readonly block: CodeBlock; readonly output: string }[];
}

/** Runs the blocks marked run, each by node in a process of its own. */
export declare function runCodeBlocks(
  runnable: readonly RunnableBlock[],
  options?: { readonly timeoutMs?: number; readonly concurrency?: number },
): Promise<RunReport>;

/** Type-checks the TypeScript blocks of `documents` in one program. */
export declare function checkCodeBlocks(
  documents: readonly { readonly path: string; readonly text: string }[],
  options?: { readonly preludeDir?: string },
): CodeBlocksReport;

/** README.md, packages/*\/README.md, docs/*.md and docs/guides/*.md, relative to the repository. */
export declare function userDocs(): string[];

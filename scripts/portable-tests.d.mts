/** A test file of the main suite, with why it needs Node (undefined when it does not). */
export interface ClassifiedTestFile {
  /** The file, relative to the repository. */
  readonly path: string;
  /** The first Node-only import it reaches, with the files that led there; undefined when portable. */
  readonly reason: string | undefined;
}

/** Every test file of the main suite, with why it is not portable. */
export function classifyTestFiles(): ClassifiedTestFile[];

/** The test files that need no Node module, relative to the repository. */
export function portableTestFiles(): string[];

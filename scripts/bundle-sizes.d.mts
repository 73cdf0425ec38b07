/** The gzipped size, in bytes, `pipe().map().filter()` should stay within. */
export const BASE_GOAL: number;

/** A bundle to measure: the base pipeline, or the base with one feature on top. */
export interface Feature {
  readonly name: string;
  /** The names imported from `@sluice/dsl`, comma-separated. */
  readonly imports: string;
  /** The pipeline's code. */
  readonly code: string;
}

/** The base pipeline first, then one feature each on top of it. */
export const FEATURES: readonly Feature[];

/** A feature's name and the pattern of the module paths it owns. */
export const FEATURE_MODULES: readonly { readonly name: string; readonly path: RegExp }[];

/** One bundle's sizes in bytes, and the Node modules it pulled in. */
export interface BundleSize {
  readonly name: string;
  readonly bytes: number;
  readonly gzipped: number;
  readonly nodeModules: readonly string[];
}

/** Where the base bundle's minified bytes come from, by feature. */
export interface Breakdown {
  readonly total: number;
  readonly groups: readonly { readonly name: string; readonly bytes: number }[];
  readonly gzippedWithoutZod: number;
}

/** Bundles each of {@link FEATURES} against the @sluice/dsl that `dir` resolves. */
export function bundleSizes(dir: string): Promise<BundleSize[]>;

/** The base bundle's minified bytes per feature, its total, and its gzipped size without zod. */
export function baseBreakdown(dir: string): Promise<Breakdown>;

/** The sizes as a Markdown table. */
export function sizeTable(sizes: readonly BundleSize[]): string;

/** The breakdown as a Markdown table. */
export function breakdownTable(breakdown: Breakdown): string;

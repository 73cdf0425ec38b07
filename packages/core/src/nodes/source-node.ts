/**
 * Where a run's elements come from: an array or other iterable, an async iterable
 * (async generators, Node `Readable`, WHATWG `ReadableStream`), a promise of one, or a
 * zero-argument function returning one of these (called once per run).
 *
 * @example
 * ```ts
 * const node: SourceNode = createSourceNode(async function* () { yield 1; });
 * node.kind; // "source"
 * ```
 */
export interface SourceNode {
  /** Always `"source"`: the discriminant that tells node kinds apart. */
  readonly kind: "source";
  /** The user's source, resolved anew at the start of each run. */
  readonly source: unknown;
}

/**
 * Creates a frozen {@link SourceNode}. Throws a `TypeError` when `source` cannot be a source.
 *
 * @example
 * ```ts
 * const node = createSourceNode([1, 2, 3]);
 * ```
 */
export function createSourceNode(source: unknown): SourceNode {
  if (!isSourceLike(source)) {
    throw new TypeError(
      `pipe(): the source must be an array, an Iterable, an AsyncIterable, a ReadableStream, a Pipeline, ` +
        `a Promise of one, or a function returning one (received ${describeValue(source)})`,
    );
  }
  return Object.freeze(new SourceNodeData(source));
}

/** A class rather than a literal, for the same reason as the stage nodes (PERF-NOTES §4). */
class SourceNodeData implements SourceNode {
  readonly kind = "source";
  constructor(readonly source: unknown) {}
}

/**
 * Whether `value` has a shape a source may have (its contents are checked when a run starts).
 *
 * @example
 * ```ts
 * isSourceLike([1, 2]); // true
 * isSourceLike(() => [1]); // true
 * isSourceLike(42); // false
 * ```
 */
export function isSourceLike(value: unknown): boolean {
  if (typeof value === "function") return true;
  if (typeof value === "string") return true;
  if (value === null || typeof value !== "object") return false;
  const v = value as Record<PropertyKey, unknown>;
  return (
    typeof v[Symbol.iterator] === "function" ||
    typeof v[Symbol.asyncIterator] === "function" ||
    typeof v["then"] === "function" ||
    typeof v["getReader"] === "function"
  );
}

/**
 * A short description of a value for error messages: `5`, `"x"`, `null`, `an object`, ...
 *
 * @example
 * ```ts
 * describeValue(0); // "0"
 * describeValue("5"); // '"5"'
 * describeValue([]); // "an array"
 * describeValue(new Map()); // "an object (Map)"
 * ```
 */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  switch (typeof value) {
    case "string":
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
    case "number":
    case "boolean":
    case "bigint":
      return String(value);
    case "symbol":
      return value.toString();
    case "function":
      return "a function";
    default:
      return Array.isArray(value) ? "an array" : `an object (${Object.prototype.toString.call(value).slice(8, -1)})`;
  }
}

/**
 * Whether `node` is a {@link SourceNode}.
 *
 * @example
 * ```ts
 * isSourceNode(createSourceNode([1])); // true
 * ```
 */
export function isSourceNode(node: { readonly kind: string }): node is SourceNode {
  return node.kind === "source";
}

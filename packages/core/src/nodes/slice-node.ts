import type { Node } from "./node.js";

/**
 * What a {@link SliceNode} keeps of its input: `"take"` the first `count` elements,
 * `"takeWhile"` the elements before the first one `predicate` rejects, `"drop"` all but the
 * first `count`. `take` and `takeWhile` stop the run's upstream once satisfied.
 *
 * @example
 * ```ts
 * const mode: SliceMode = "takeWhile";
 * ```
 */
export type SliceMode = "take" | "takeWhile" | "drop";

/**
 * Passes on a part of its input's elements, in the order they arrive (TC39's `take`,
 * `takeWhile` and `drop`). It calls no user code of its own except `takeWhile`'s
 * synchronous predicate, so it has no workers and no queue.
 *
 * @example
 * ```ts
 * const node: SliceNode = createSliceNode(createSourceNode([1, 2, 3]), "take", 2, undefined);
 * node.count; // 2
 * ```
 */
export interface SliceNode {
  /** Always `"slice"`: the discriminant that tells node kinds apart. */
  readonly kind: "slice";
  /** The node whose elements are sliced. */
  readonly input: Node;
  /** Which part is kept; see {@link SliceMode}. */
  readonly mode: SliceMode;
  /** For `"take"` and `"drop"`: how many elements (an integer >= 0); `0` for `"takeWhile"`. */
  readonly count: number;
  /** For `"takeWhile"`: called as `predicate(element, counter)`, synchronously; `undefined` otherwise. */
  readonly predicate: ((value: never, counter: number) => unknown) | undefined;
  /** The method that made the node (`"take"`, `"find"`...), named in the errors of its run. */
  readonly method: string;
}

/**
 * Creates a frozen {@link SliceNode}; `count` and `predicate` are trusted (the DSL validates them).
 *
 * @example
 * ```ts
 * const firstTen = createSliceNode(createSourceNode(rows), "take", 10, undefined);
 * const untilBlank = createSliceNode(createSourceNode(lines), "takeWhile", 0, (line: string) => line !== "");
 * ```
 */
export function createSliceNode(
  input: Node,
  mode: SliceMode,
  count: number,
  predicate: ((value: never, counter: number) => unknown) | undefined,
  method: string = mode,
): SliceNode {
  return Object.freeze(new SliceNodeData(input, mode, count, predicate, method));
}

/** A class rather than a literal, for the same reason as the stage nodes (docs/design.md §14). */
class SliceNodeData implements SliceNode {
  readonly kind = "slice";
  constructor(
    readonly input: Node,
    readonly mode: SliceMode,
    readonly count: number,
    readonly predicate: ((value: never, counter: number) => unknown) | undefined,
    readonly method: string,
  ) {}
}

/**
 * Whether `node` is a {@link SliceNode}.
 *
 * @example
 * ```ts
 * isSliceNode(createSliceNode(createSourceNode([1]), "drop", 1, undefined)); // true
 * ```
 */
export function isSliceNode(node: Node): node is SliceNode {
  return node.kind === "slice";
}

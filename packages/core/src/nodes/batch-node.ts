import type { Node } from "./node.js";

/**
 * Groups its input's elements into arrays of up to `size`, in arrival order. A batch is
 * emitted when full, or `maxWait` ms after its first element arrived; never empty; the last,
 * partial batch at the end. Batch `k` has index path `[k]`.
 *
 * @example
 * ```ts
 * const node: BatchNode = createBatchNode(createSourceNode([1, 2, 3]), 2, undefined);
 * node.size; // 2
 * ```
 */
export interface BatchNode {
  /** Always `"batch"`: the discriminant that tells node kinds apart. */
  readonly kind: "batch";
  /** The node whose elements are grouped. */
  readonly input: Node;
  /** Elements per batch at most (an integer >= 1). */
  readonly size: number;
  /** Milliseconds a batch may wait for more elements after its first, or `undefined` for no limit. */
  readonly maxWait: number | undefined;
}

/**
 * Creates a frozen {@link BatchNode}; `size` and `maxWait` are trusted (the DSL validates them).
 *
 * @example
 * ```ts
 * const node = createBatchNode(createSourceNode(rows), 100, 50);
 * ```
 */
export function createBatchNode(input: Node, size: number, maxWait: number | undefined): BatchNode {
  return Object.freeze(new BatchNodeData(input, size, maxWait));
}

/** A class rather than a literal, for the same reason as the stage nodes (docs/design.md §14). */
class BatchNodeData implements BatchNode {
  readonly kind = "batch";
  constructor(
    readonly input: Node,
    readonly size: number,
    readonly maxWait: number | undefined,
  ) {}
}

/**
 * Whether `node` is a {@link BatchNode}.
 *
 * @example
 * ```ts
 * isBatchNode(createBatchNode(createSourceNode([1]), 10, undefined)); // true
 * ```
 */
export function isBatchNode(node: Node): node is BatchNode {
  return node.kind === "batch";
}

import type { Node } from "./node.js";

/**
 * Emits its input's elements in source order (by index path), streaming.
 *
 * @example
 * ```ts
 * const node: OrderedNode = createOrderedNode(createSourceNode([1, 2]));
 * node.kind; // "ordered"
 * ```
 */
export interface OrderedNode {
  /** Always `"ordered"`: the discriminant that tells node kinds apart. */
  readonly kind: "ordered";
  /** The node whose elements are put back in order. */
  readonly input: Node;
}

/**
 * Creates a frozen {@link OrderedNode}.
 *
 * @example
 * ```ts
 * const node = createOrderedNode(mapNode);
 * ```
 */
export function createOrderedNode(input: Node): OrderedNode {
  return Object.freeze(new OrderedNodeData(input));
}

/** A class rather than a literal, for the same reason as the stage nodes (docs/design.md §14). */
class OrderedNodeData implements OrderedNode {
  readonly kind = "ordered";
  constructor(readonly input: Node) {}
}

/**
 * Whether `node` is an {@link OrderedNode}.
 *
 * @example
 * ```ts
 * isOrderedNode(createOrderedNode(createSourceNode([1]))); // true
 * ```
 */
export function isOrderedNode(node: Node): node is OrderedNode {
  return node.kind === "ordered";
}

import type { Node } from "./node.js";

/**
 * Merges several inputs as their elements arrive, prefixing each index path with the input's position.
 *
 * @example
 * ```ts
 * const node: ConcatNode = createConcatNode([createSourceNode([1, 2]), createSourceNode(["a"])]);
 * node.inputs.length; // 2
 * ```
 */
export interface ConcatNode {
  /** Always `"concat"`: the discriminant that tells node kinds apart. */
  readonly kind: "concat";
  /** The merged inputs, in argument order. */
  readonly inputs: readonly Node[];
}

/**
 * Creates a frozen {@link ConcatNode}.
 *
 * @example
 * ```ts
 * const node = createConcatNode([createSourceNode([1]), createSourceNode(["a"])]);
 * ```
 */
export function createConcatNode(inputs: readonly Node[]): ConcatNode {
  return Object.freeze({ kind: "concat", inputs: Object.freeze([...inputs]) });
}

/**
 * Whether `node` is a {@link ConcatNode}.
 *
 * @example
 * ```ts
 * isConcatNode(createConcatNode([])); // true
 * isConcatNode(createSourceNode([1])); // false
 * ```
 */
export function isConcatNode(node: Node): node is ConcatNode {
  return node.kind === "concat";
}

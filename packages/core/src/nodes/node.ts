import type { BatchNode } from "./batch-node.js";
import type { ConcatNode } from "./concat-node.js";
import type { OrderedNode } from "./ordered-node.js";
import type { SourceNode } from "./source-node.js";
import type { StageNode } from "./stage-node.js";

/**
 * Any node of a pipeline graph; `kind` tells which. Nodes are frozen plain data.
 *
 * @example
 * ```ts
 * function describe(node: Node): string {
 *   return node.kind === "source" ? "source" : `${node.kind} <- ${inputsOf(node).map(describe).join(", ")}`;
 * }
 * ```
 */
export type Node = SourceNode | StageNode | OrderedNode | ConcatNode | BatchNode;

/**
 * The nodes `node` reads from, in order.
 *
 * @example
 * ```ts
 * const source = createSourceNode([1]);
 * inputsOf(source); // []
 * inputsOf(createOrderedNode(source)); // [source]
 * ```
 */
export function inputsOf(node: Node): readonly Node[] {
  switch (node.kind) {
    case "source":
      return [];
    case "concat":
      return node.inputs;
    default:
      return [node.input];
  }
}

import type { ConcatNode } from "./concat-node.js";
import type { OrderedNode } from "./ordered-node.js";
import type { SourceNode } from "./source-node.js";
import type { StageNode } from "./stage-node.js";

/** Any node of a pipeline graph; `kind` tells which. Nodes are frozen plain data. */
export type Node = SourceNode | StageNode | OrderedNode | ConcatNode;

/** The nodes `node` reads from, in order. */
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

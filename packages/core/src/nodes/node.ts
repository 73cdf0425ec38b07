import type { BatchNode } from "./batch-node.js";
import type { ConcatNode } from "./concat-node.js";
import type { OrderedNode } from "./ordered-node.js";
import type { SliceNode } from "./slice-node.js";
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
export type Node = SourceNode | StageNode | OrderedNode | ConcatNode | BatchNode | SliceNode;

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
  return visitNode(INPUTS, node);
}

/** Every kind of {@link Node}. */
export type NodeKind = Node["kind"];

/**
 * One function per node kind, each given the nodes of its kind (and the caller's `A`):
 * dispatch over a record of these (as Kysely's `OperationNodeVisitor` does) fails to compile
 * until every kind is handled, where a `default:` branch would quietly take a new kind.
 */
export type NodeVisitor<R, A extends readonly unknown[] = []> = {
  readonly [K in NodeKind]: (node: Node & { readonly kind: K }, ...args: A) => R;
};

/** The function of `visitor` for `node`'s kind, typed to take any node (it is given `node`). */
export function visitorOf<R, A extends readonly unknown[]>(visitor: NodeVisitor<R, A>, node: Node): (node: Node, ...args: A) => R {
  return visitor[node.kind] as (node: Node, ...args: A) => R;
}

/** Calls the function of `visitor` for `node`'s kind. */
export function visitNode<R>(visitor: NodeVisitor<R>, node: Node): R {
  return visitorOf(visitor, node)(node);
}

const none: readonly Node[] = Object.freeze([]);
const single = (node: { readonly input: Node }): readonly Node[] => [node.input];

const INPUTS: NodeVisitor<readonly Node[]> = {
  source: () => none,
  map: single,
  filter: single,
  flatMap: single,
  each: single,
  ordered: single,
  batch: single,
  slice: single,
  concat: (node) => node.inputs,
};

import type { Node } from "./node.js";
import type { StageFunction, StageSettings } from "./stage-settings.js";

/**
 * The kinds of worker stage; they differ only in what they do with `f`'s result:
 * `map` emits it, `filter` emits the element when it is truthy, `flatMap` emits each item
 * of the iterable it returns, `each` emits nothing.
 *
 * @example
 * ```ts
 * const kind: StageKind = "flatMap";
 * ```
 */
export type StageKind = (typeof STAGE_KINDS)[number];

/**
 * Every {@link StageKind}: the DSL's stage methods are named after them.
 *
 * @example
 * ```ts
 * STAGE_KINDS; // ["map", "filter", "flatMap", "each"]
 * ```
 */
export const STAGE_KINDS = Object.freeze(["map", "filter", "flatMap", "each"] as const);

/**
 * A stage that calls `f` on each element with up to `workers` calls in flight.
 *
 * @example
 * ```ts
 * const node: StageNode = createStageNode("filter", createSourceNode([1, 2]), (x: number) => x > 1, settings);
 * node.settings.workers; // whatever settings says
 * ```
 */
export interface StageNode {
  /** Which worker stage this is; see {@link StageKind}. */
  readonly kind: StageKind;
  /** The node whose elements this stage receives. */
  readonly input: Node;
  /** The user's function, called as `f(element, ctx)`. */
  readonly fn: StageFunction;
  /** The stage's validated options. */
  readonly settings: StageSettings;
}

/**
 * Creates a frozen {@link StageNode}.
 *
 * @example
 * ```ts
 * const node = createStageNode("map", createSourceNode([1, 2]), (x: number) => x + 1, settings);
 * ```
 */
export function createStageNode(
  kind: StageKind,
  input: Node,
  fn: StageFunction,
  settings: StageSettings,
): StageNode {
  return Object.freeze(new StageNodeData(kind, input, fn, settings));
}

// Nodes are class instances rather than object literals: V8 pretenures literal allocation
// sites whose objects survive a scavenge, which made many small runs GC-bound (docs/design.md §14).
class StageNodeData implements StageNode {
  constructor(
    readonly kind: StageKind,
    readonly input: Node,
    readonly fn: StageFunction,
    readonly settings: StageSettings,
  ) {}
}

/**
 * Whether `node` is a {@link StageNode} (map, filter, flatMap or each).
 *
 * @example
 * ```ts
 * if (isStageNode(node)) console.log(node.settings.name); // e.g. "map#1"
 * ```
 */
export function isStageNode(node: Node): node is StageNode {
  return node.kind === "map" || node.kind === "filter" || node.kind === "flatMap" || node.kind === "each";
}

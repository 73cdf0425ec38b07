import { describeValue } from "../describe-value.js";
import type { Settle } from "./source-outcome.js";
import type { CheckpointSettings } from "./stage-settings.js";

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
  /** Called once per element taken from the source with what became of it, or `undefined` (docs/behaviour.md §13). */
  readonly settle: Settle<unknown> | undefined;
  /** Where each element stands and how the watermark is saved, or `undefined` (docs/behaviour.md §15). */
  readonly checkpoint: CheckpointSettings | undefined;
}

/**
 * Creates a frozen {@link SourceNode}. Throws a `TypeError` when `source` cannot be a source.
 * With `settle`, every element taken from the source settles exactly once (see {@link Settle});
 * with `checkpoint`, the watermark of settled elements is saved as it moves (docs/behaviour.md §15).
 *
 * @example
 * ```ts
 * const node = createSourceNode([1, 2, 3]);
 * const acked = createSourceNode(messages, (message, outcome) => log(message, outcome.status));
 * ```
 */
export function createSourceNode(source: unknown, settle?: Settle<unknown>, checkpoint?: CheckpointSettings): SourceNode {
  if (!isSourceLike(source)) {
    throw new TypeError(
      `createSourceNode(): the source must be an array, an Iterable, an AsyncIterable, a ReadableStream, a Pipeline, ` +
        `a Promise of one, or a function returning one (received ${describeValue(source)})`,
    );
  }
  return Object.freeze(new SourceNodeData(source, settle, checkpoint));
}

/** A class rather than a literal, for the same reason as the stage nodes (docs/design.md §14). */
class SourceNodeData implements SourceNode {
  readonly kind = "source";
  constructor(
    readonly source: unknown,
    readonly settle: Settle<unknown> | undefined,
    readonly checkpoint: CheckpointSettings | undefined,
  ) {}
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

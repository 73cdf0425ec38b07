import {
  OptionsError,
  checkpointDefaults,
  createSourceNode,
  type Checkpoint,
  type CheckpointSettings,
  type Settle,
  type SourceOutcome,
} from "@sluice/core";
import { checkObject, optionsError } from "./options-error.js";
import { DURATION_ALLOWED, checkpointOptionsSchema, parseOptions, sourceOptionsSchema } from "./options-schema.js";
import { Graph, graphOf } from "./graph.js";
import { Pipeline } from "./pipeline.js";

/**
 * A source that can be iterated directly.
 *
 * @example
 * ```ts
 * const lines: IterableSource<string> = Readable.from(["a", "b"]);
 * ```
 */
export type IterableSource<T> = Iterable<T> | AsyncIterable<T> | ReadableStream<T>;

/**
 * Anything `pipe()` and `concat()` accept: an array or other `Iterable`, an `AsyncIterable`
 * (async generators, Node `Readable` in object mode, WHATWG `ReadableStream`), a
 * `Pipeline`, a `Promise` of one of these, or a zero-argument function returning one
 * (called once per run, which makes one-shot sources such as generators re-runnable).
 *
 * @example
 * ```ts
 * const fromArray: Source<number> = [1, 2, 3];
 * const fromGenerator: Source<number> = async function* () { yield 1; yield 2; };
 * const fromPromise: Source<string> = fetchNames(); // Promise<string[]>
 * ```
 */
export type Source<T> =
  | IterableSource<T>
  | Pipeline<T>
  | PromiseLike<IterableSource<T>>
  | (() => IterableSource<T> | PromiseLike<IterableSource<T>>);

/**
 * The element type of a {@link Source}.
 *
 * @example
 * ```ts
 * type N = ElementOf<number[]>; // number
 * type S = ElementOf<() => AsyncGenerator<string>>; // string
 * ```
 */
export type ElementOf<S> =
  S extends Pipeline<infer T>
    ? T
    : S extends AsyncIterable<infer T>
      ? T
      : S extends Iterable<infer T>
        ? T
        : S extends ReadableStream<infer T>
          ? T
          : S extends PromiseLike<infer P>
            ? ElementOf<P>
            : S extends () => infer R
              ? ElementOf<R>
              : never;

/**
 * Options of {@link source}: `settle` to acknowledge each element, `position` and
 * `checkpoint` to save how far the run got, or both.
 *
 * @example
 * ```ts
 * const acked: SourceOptions<Message> = {
 *   settle: (message, outcome) => (outcome.status === "done" ? message.ack() : message.nack()),
 * };
 * const resumable: SourceOptions<Line, number> = {
 *   position: (line) => line.end,
 *   checkpoint: { save: ({ position }) => writeFile("offset", String(position)), every: 1_000 },
 * };
 * ```
 */
export type SourceOptions<T, P = unknown> = SettleOptions<T> | CheckpointOptions<T, P>;

/**
 * The options of an acknowledged {@link source}.
 *
 * @example
 * ```ts
 * const options: SettleOptions<Message> = { settle: (message, { status }) => console.log(message.id, status) };
 * ```
 */
export interface SettleOptions<T> {
  /**
   * Called exactly once for every element the run takes from the source, with what became
   * of it ({@link SourceOutcome}): `"done"` once every element derived from it was
   * delivered, filtered out, expanded to nothing or finished by `each` (with `for await`,
   * delivered means asked past: done when the loop asks for the next element); `"failed"`
   * when one of them failed; `"released"` when the run was torn down first, the element in
   * a `for await` loop's hand included when the loop exits by `break`, `return` or a throw
   * (at least once: it is redelivered, never lost). Every open element
   * settles before the run settles; a returned promise is awaited like `onDone`, and a
   * throw or rejection fails the run.
   */
  readonly settle: Settle<T>;
  /** Only with `checkpoint` (see {@link CheckpointOptions}). */
  readonly position?: undefined;
  /** Only with `position` (see {@link CheckpointOptions}). */
  readonly checkpoint?: undefined;
}

/**
 * The options of a {@link source} that saves checkpoints (docs/behaviour.md §15): the run
 * saves the watermark, the `position` of the latest element such that it and every element
 * before it have settled `"done"` (or `"failed"` under `onError: "skip"`, `"collect"` or a
 * handler). After a crash, resume the source just after the saved position: only elements
 * past the watermark are done again.
 *
 * @example
 * ```ts
 * const options: CheckpointOptions<Line, number> = {
 *   position: (line) => line.end, // the byte offset just after the line
 *   checkpoint: { save: ({ position }) => writeFile("offset", String(position)), interval: 1_000 },
 * };
 * ```
 */
export interface CheckpointOptions<T, P> {
  /** An acknowledgement callback, as in {@link SettleOptions.settle}; optional here. */
  readonly settle?: Settle<T> | undefined;
  /**
   * Where an element stands in the source (a byte offset, a sequence number): called once per
   * element taken, in the order they are taken. If it throws, the run fails at that element
   * with an `ElementError` (stage `"source(position)"`) whose `cause` is what it threw.
   */
  readonly position: (element: T) => P;
  /** How the watermark is saved. */
  readonly checkpoint: CheckpointSaving<P>;
}

/**
 * How a {@link source}'s watermark is saved (see {@link CheckpointOptions}). `save` is called
 * at most once per `every` settled elements or `interval` ms while the watermark moves, and
 * once more as the run ends, however it ends (when the watermark moved since the last save);
 * calls never overlap, and the position only moves forward. A returned promise is awaited
 * (the run settles after it); a throw or a rejection fails the run, as `settle`'s do.
 *
 * @example
 * ```ts
 * const saving: CheckpointSaving<number> = { save: ({ position }) => db.saveOffset(position), every: 500, interval: 2_000 };
 * ```
 */
export interface CheckpointSaving<P> {
  /** Stores the watermark (see {@link Checkpoint}). */
  readonly save: (checkpoint: Checkpoint<P>) => void | PromiseLike<void>;
  /** Save once this many elements have settled since the last save: an integer >= 1. */
  readonly every?: number | undefined;
  /**
   * Save at most once per this many ms while the watermark moves.
   * @default 1_000 (`checkpointDefaults.interval`) when `every` is not given either
   */
  readonly interval?: number | undefined;
}

const ALLOWED: Readonly<Record<keyof CheckpointOptions<unknown, unknown>, string>> = {
  settle: "a function",
  position: "a function",
  checkpoint: "an object { save, every?, interval? }",
};

const CHECKPOINT_ALLOWED: Readonly<Record<keyof CheckpointSaving<unknown>, string>> = {
  save: "a function",
  every: "an integer >= 1",
  interval: DURATION_ALLOWED,
};

/**
 * A source whose elements are acknowledged, or whose progress is saved, or both.
 * With `settle`, `settle(element, outcome)` is called once per element taken from `items`,
 * after everything derived from it has finished (see {@link SettleOptions.settle}): use it
 * to acknowledge work taken from a durable queue only once it is done (at-least-once
 * delivery). With `position` and `checkpoint`, the run saves how far it got, so that a
 * restart can resume after it (see {@link CheckpointOptions}). `items` is anything
 * {@link pipe} accepts. Sources without these options cost nothing for them.
 *
 * @example
 * ```ts
 * const done: number[] = [];
 * await pipe(source([1, 2, 3], { settle: (x, outcome) => { if (outcome.status === "done") done.push(x); } }))
 *   .map((x) => x * 2)
 *   .filter((x) => x > 2)
 *   .run();
 * // done holds 1, 2 and 3: 1 was filtered out, 2 and 3 delivered
 *
 * let resumeAfter = -1;
 * await source(lines, { position: (line) => line.number, checkpoint: { save: ({ position }) => { resumeAfter = position; } } })
 *   .map(handle, { workers: 8 })
 *   .run();
 * ```
 */
export function source<T, P = unknown>(items: Source<T>, options: SourceOptions<NoInfer<T>, P>): Pipeline<T> {
  const given = checkObject("source", options) as Record<string, unknown>;
  const parsed = parseOptions(sourceOptionsSchema, given);
  if (!parsed.success) throw optionsError("source", given, parsed.issue, ALLOWED);
  const { settle, position, checkpoint } = parsed.data;
  if (settle === undefined && position === undefined && checkpoint === undefined) {
    throw OptionsError.invalid("source", ["options", "settle"], "a function (or give position and checkpoint)", undefined);
  }
  if (checkpoint !== undefined && position === undefined) {
    throw OptionsError.invalid("source", ["options", "position"], "a function (a checkpoint saves elements' positions)", undefined);
  }
  if (position !== undefined && checkpoint === undefined) {
    throw OptionsError.invalid("source", ["options", "checkpoint"], "an object { save, every?, interval? } (position is read only by a checkpoint)", undefined);
  }
  let settings: CheckpointSettings | undefined;
  if (checkpoint !== undefined) {
    const fields = checkpoint as Record<string, unknown>;
    const checked = parseOptions(checkpointOptionsSchema, fields);
    if (!checked.success) throw optionsError("source", fields, checked.issue, CHECKPOINT_ALLOWED, ["options", "checkpoint"]);
    const { save, every, interval } = checked.data;
    settings = Object.freeze({
      position: position as (element: unknown) => unknown,
      save: save as CheckpointSettings["save"],
      every,
      interval: interval ?? (every === undefined ? checkpointDefaults.interval : undefined),
    });
  }
  // graphOf checks the form of `items`. A pipeline that is more than a plain source is read
  // as the elements of a nested run; a plain one gives its source.
  const node = graphOf(items, "source").node;
  const plain = node.kind === "source" && node.settle === undefined && node.checkpoint === undefined;
  return new Pipeline<T>(new Graph(createSourceNode(plain ? node.source : items, settle as Settle<unknown> | undefined, settings), 0));
}

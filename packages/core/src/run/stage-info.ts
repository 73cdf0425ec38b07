import type { EngineContext, HookInfo } from "../context.js";
import { describeValue } from "../describe-value.js";
import { Item, pathOf } from "./item.js";
import { anchorShape } from "../shape-anchors.js";

/** Anything that can hand out the `AbortSignal` a call or hook should watch. */
export interface SignalSource {
  readonly signal: AbortSignal;
}

/**
 * What `onStart` receives, and (merged with `onStart`'s result) what `onDone` receives.
 * `signal` aborts when the run is torn down; it is created only when read.
 *
 * @example
 * ```ts
 * pipe(ids).map(fetchUser, {
 *   onStart: (info: HookInfo) => {
 *     console.log(`${info.stage} starting`);
 *     return { agent: new Agent({ keepAlive: true }) };
 *   },
 * });
 * ```
 */
export class StageInfo implements HookInfo {
  /** The stage's name (`name` option, or `map#2` style). */
  readonly stage: string;
  readonly #signals: SignalSource;

  /** @internal */
  constructor(stage: string, signals: SignalSource) {
    this.stage = stage;
    this.#signals = signals;
  }

  /** Aborts when the run is torn down (error, early exit or the caller's abort). */
  get signal(): AbortSignal {
    return this.#signals.signal;
  }
}

/** Hands out the controller behind a call's `ctx.signal`, and forgets it once the call settles. */
export interface CallOwner {
  /** A controller for one call, already aborted if the run is being torn down. */
  controllerFor(): AbortController;
  /** The call that got `controller` has settled. */
  releaseController(controller: AbortController): void;
  /** Adds `units` to the stage's rate limit (checked by the caller). */
  charge(units: number): void;
}

/**
 * The `ctx` a call of `f` receives; the stage copies `onStart`'s values onto it. `signal` and
 * `index` are computed only when read: most `f`s read neither, and an `AbortController` per
 * call was the largest cost measured (docs/design.md §11).
 *
 * @example
 * ```ts
 * pipe(["a", "b"]).map((x, ctx) => {
 *   ctx.stage; // "map#1"
 *   ctx.index; // [0] for "a", [1] for "b"
 *   ctx.attempt; // 1 (2, 3... when the stage retries)
 *   return fetch(`https://example.com/${x}`, { signal: ctx.signal });
 * });
 * pipe(prompts).map(async (prompt, ctx) => {
 *   const reply = await complete(prompt);
 *   ctx.charge(reply.usage.totalTokens); // the call's real cost, known only now
 *   if (reply.nearQuota) ctx.pushback(); // a success that still says "slow down"
 *   return reply.text;
 * });
 * ```
 */
export class CallContext implements EngineContext {
  /** The stage's name. */
  readonly stage: string;
  /** Which attempt at this element the call is: 1, then 2, 3... under the stage's `retry`. */
  readonly attempt: number;
  readonly #owner: CallOwner;
  readonly #item: Item;
  /** When the element's first attempt started (`Date.now()`), kept only for `maxRetryTime`. */
  readonly #firstStart: number;
  #controller: AbortController | null = null;
  #pushedBack = false;

  /** @internal */
  constructor(stage: string, owner: CallOwner, item: Item, attempt: number, firstStart: number) {
    this.stage = stage;
    this.attempt = attempt;
    this.#owner = owner;
    this.#item = item;
    this.#firstStart = firstStart;
  }

  /** @internal When the element's first attempt started (0 unless the stage has a `maxRetryTime`). */
  static firstStart(ctx: CallContext): number {
    return ctx.#firstStart;
  }

  /** @internal The element the call of `ctx` is for (telemetry keys what it knows per element by it; costs read it). */
  static itemOf(ctx: CallContext): Item {
    return ctx.#item;
  }

  /**
   * Aborts when the run is torn down or this call times out. Each call that reads it gets
   * its own signal, so listeners added by `fetch` and friends never pile up on a shared one.
   */
  get signal(): AbortSignal {
    return (this.#controller ??= this.#owner.controllerFor()).signal;
  }

  /**
   * @internal The call of `ctx` has settled: its signal no longer needs aborting on teardown.
   * Static, so that an `onStart` value copied onto `ctx` cannot shadow it.
   */
  static release(ctx: CallContext): void {
    if (ctx.#controller !== null) ctx.#owner.releaseController(ctx.#controller);
  }

  /** The element's index path: its position in the source, then inside each `flatMap` expansion. */
  get index(): readonly number[] {
    return pathOf(this.#item);
  }

  /**
   * Says that this call, though it may succeed, met a service asking to slow down (a
   * near-quota header, a degraded reply): an adaptive stage (`workers: "auto"`) lowers its
   * limit as for a 429. Does nothing in a stage with fixed `workers`.
   */
  pushback(): void {
    this.#pushedBack = true;
  }

  /**
   * Adds `units` to the stage's `rateLimit` once this call's real cost is known (an LLM
   * reply's token count): they count in the rolling window from now, and later starts wait
   * until the window is back within the limit. Does nothing without a `rateLimit`. Throws a
   * `TypeError` when `units` is not a number and a `RangeError` when it is negative or not finite.
   *
   * @param units - a finite number >= 0
   */
  charge(units: number): void {
    if (typeof units !== "number" || !(units >= 0 && units !== Infinity)) {
      const message = `${this.stage}: ctx.charge() takes a finite number of units >= 0 (received ${describeValue(units)})`;
      throw typeof units === "number" ? new RangeError(message) : new TypeError(message);
    }
    this.#owner.charge(units);
  }

  /** @internal Whether the call of `ctx` ran `ctx.pushback()`. Static, as {@link release} is. */
  static pushedBack(ctx: CallContext): boolean {
    return ctx.#pushedBack;
  }
}

// Keep the hidden classes of these per-run objects alive (see shape-anchors.ts).
const anchorOwner: CallOwner = { controllerFor: () => new AbortController(), releaseController: () => undefined, charge: () => undefined };
anchorShape(new CallContext("", anchorOwner, new Item(undefined, 0, null, null, 0, null), 1, 0));
anchorShape(new StageInfo("", { signal: new AbortController().signal }));

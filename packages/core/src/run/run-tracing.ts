import { TimeoutError } from "../errors.js";
import { createStageNode, type StageKind, type StageNode } from "../nodes/stage-node.js";
import type { RunStats } from "../run-stats.js";
import type { CallOutcome, Telemetry } from "../telemetry.js";
import type { Receiver } from "./flow.js";
import { VALUE, type Item } from "./item.js";
import { readableKind } from "./iterable-reader.js";
import type { Progress } from "./progress.js";
import type { Run } from "./run.js";
import { CallContext } from "./stage-info.js";
import { isPromiseLike } from "./thenable.js";

type Fn = (value: unknown, ctx: CallContext) => unknown;

/**
 * A run's side of its `telemetry` option (docs/design.md §21): exists only when the option is
 * given, so an untraced run creates none of this. It opens the run's span, gives each stage
 * an `f` wrapped in a call span (the stages themselves are unchanged), taps `batch()` stages
 * to link a batch to its elements, and reports the run's stats through its `Progress`.
 * What it knows per element lives in weak maps keyed by the element's `Item`, which one
 * element keeps from stage to stage.
 */
export class RunTracing {
  readonly telemetry: Telemetry;
  readonly span: unknown;
  readonly #run: Run;
  /** The parent of an element's call spans, when it is not the run's span. */
  readonly #parents = new WeakMap<Item, unknown>();
  /** The latest call span of each element, which a batch links to. */
  readonly #latest = new WeakMap<Item, unknown>();

  constructor(run: Run, telemetry: Telemetry) {
    this.#run = run;
    this.telemetry = telemetry;
    this.span = telemetry.runStarted();
  }

  /** `node` with its `f` traced: a span per call, `f` inside it. */
  traced(node: StageNode): StageNode {
    const fn = node.fn as Fn;
    const stage = node.settings.name;
    const kind = node.kind;
    // Only a stage fed by the source sees source elements, whose parent the telemetry may read.
    const fromSource = node.input.kind === "source" && this.telemetry.elementParent !== undefined;
    const timed = node.settings.timeout !== undefined;
    const traced = (value: unknown, ctx: CallContext) => this.#call(fn, value, ctx, stage, kind, fromSource, timed);
    return createStageNode(kind, node.input, traced, node.settings);
  }

  #call(fn: Fn, value: unknown, ctx: CallContext, stage: string, kind: StageKind, fromSource: boolean, timed: boolean): unknown {
    const telemetry = this.telemetry;
    const item = CallContext.itemOf(ctx);
    const parent = this.#parentOf(item, value, fromSource);
    const span = telemetry.callStarted({ stage, kind, index: ctx.index, attempt: ctx.attempt, parent, run: this.span });
    this.#latest.set(item, span);
    const call = new TracedCall(this, span);
    // A timed-out call is abandoned, and may never settle: its span ends when its signal aborts.
    if (timed) ctx.signal.addEventListener("abort", call, { once: true });
    let result: unknown;
    try {
      result = telemetry.within(span, fn, value, ctx);
    } catch (error) {
      call.failed(error);
      throw error;
    }
    // flatMap reads an iterable (even a thenable one); the span covers the call, not the reading.
    if ((kind === "flatMap" && typeof result !== "string" && readableKind(result) !== undefined) || !isPromiseLike(result)) {
      call.end("ok", undefined);
      return result;
    }
    return Promise.resolve(result).then(
      (output) => {
        call.end("ok", undefined);
        return output;
      },
      (error: unknown) => {
        call.failed(error);
        throw error;
      },
    );
  }

  #parentOf(item: Item, value: unknown, fromSource: boolean): unknown {
    const known = this.#parents.get(item);
    if (known !== undefined || !fromSource) return known ?? this.span;
    const parent = this.telemetry.elementParent!(this.span, value) ?? this.span;
    // Later stages (and later attempts) see the mapped value: remember the parent by element.
    this.#parents.set(item, parent);
    return parent;
  }

  /** Fails the run with an error the telemetry threw where no call could take it. */
  fail(error: unknown): void {
    this.#run.fail(error);
  }

  /** Whether the run is being torn down (a failure then is most likely teardown's abort). */
  get closing(): boolean {
    return this.#run.closing;
  }

  /** What a batch links to for `item`: its latest call span, else its own parent, else nothing. */
  linkOf(item: Item): unknown {
    return this.#latest.get(item) ?? this.#parents.get(item);
  }

  /** A batch was emitted as `item`: open its span, from which its calls then hang. */
  batchEmitted(item: Item, startTime: number, links: unknown[]): void {
    const size = (item.value as unknown[]).length;
    const span = this.telemetry.batchEmitted({ stage: "batch", index: item.pos, size, startTime, run: this.span, links });
    this.#parents.set(item, span);
  }

  /** The `onProgress` a traced run's `Progress` calls: the telemetry first, then the caller's own. */
  reporter(onProgress: ((stats: RunStats) => void) | undefined): (stats: RunStats) => void {
    const telemetry = this.telemetry;
    return (stats) => {
      telemetry.progress?.(this.span, stats);
      onProgress?.(stats);
    };
  }

  /** The run is settling (its `Progress` has made its final report): end the run's span. */
  finish(progress: Progress): void {
    const run = this.#run;
    try {
      this.telemetry.runEnded(this.span, progress.snapshot(true), run.failed ? run.error : undefined);
    } catch (error) {
      // As a throwing final onProgress: it fails a run that was going to succeed.
      if (!run.failed && !run.closing) {
        run.failed = true;
        run.error = error;
      }
    }
  }
}

/** One traced call: ends its span once, however many of settle, throw and abort happen. */
class TracedCall {
  #open = true;

  constructor(
    readonly tracing: RunTracing,
    readonly span: unknown,
  ) {}

  end(outcome: CallOutcome, error: unknown): void {
    if (!this.#open) return;
    this.#open = false;
    this.tracing.telemetry.callEnded(this.span, outcome, error);
  }

  failed(error: unknown): void {
    this.end(error instanceof TimeoutError ? "timeout" : this.tracing.closing ? "cancelled" : "error", error);
  }

  /** The call's signal aborted (it is an `EventListener` object: no closure per call). */
  handleEvent(event: Event): void {
    try {
      this.failed((event.target as AbortSignal).reason);
    } catch (error) {
      // Thrown from an event listener it would be uncaught: the run fails with it instead.
      this.tracing.fail(error);
    }
  }
}

/**
 * The receiving end of a traced `batch()` stage: notes each arriving element's link and
 * arrival time, then hands it to the stage. Elements form batches in arrival order, so the
 * first `size` notes belong to the next batch emitted.
 */
export class BatchInTap implements Receiver {
  readonly links: unknown[] = [];
  readonly arrivals: number[] = [];

  constructor(
    readonly tracing: RunTracing,
    readonly stage: Receiver,
  ) {}

  push(item: Item): boolean {
    if (item.mark === VALUE && !this.tracing.closing) {
      this.links.push(this.tracing.linkOf(item));
      this.arrivals.push(Date.now());
    }
    return this.stage.push(item);
  }

  end(): void {
    this.stage.end();
  }
}

/** The sending end of a traced `batch()` stage: opens each batch's span with its elements' links. */
export class BatchOutTap implements Receiver {
  constructor(
    readonly input: BatchInTap,
    readonly out: Receiver,
  ) {}

  push(item: Item): boolean {
    if (item.mark === VALUE) {
      const input = this.input;
      const size = (item.value as unknown[]).length;
      const startTime = input.arrivals[0] ?? Date.now();
      input.arrivals.splice(0, size);
      const links = input.links.splice(0, size).filter((link) => link !== undefined);
      input.tracing.batchEmitted(item, startTime, links);
    }
    return this.out.push(item);
  }

  end(): void {
    this.out.end();
  }
}

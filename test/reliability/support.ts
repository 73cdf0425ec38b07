/**
 * Shared tools of the reliability suite: a model of random map/filter/flatMap chains that
 * computes what the Array methods would give, instrumented stage functions, and counters
 * for unhandled rejections.
 */
import fc from "fast-check";
import { pipe, type Pipeline } from "@sluice/dsl";

/** Resolves after `ms` milliseconds (a timer even for 0, so the event loop turns). */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves in a later macrotask, after pending I/O and immediates. */
export const macrotask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Lets every queued microtask, immediate and 0 ms timer run. */
export async function settleEventLoop(): Promise<void> {
  await macrotask();
  await sleep(0);
  await macrotask();
}

// ---- unhandled rejections ------------------------------------------------------------

/** Counts `unhandledRejection` events for as long as it is installed. */
export class UnhandledRejections {
  readonly reasons: unknown[] = [];
  readonly #listener = (reason: unknown): void => {
    this.reasons.push(reason);
  };

  install(): void {
    process.on("unhandledRejection", this.#listener);
  }

  uninstall(): void {
    process.off("unhandledRejection", this.#listener);
  }

  get count(): number {
    return this.reasons.length;
  }
}

// ---- the chain model -----------------------------------------------------------------

/** How a stage function takes its time: returns synchronously, after a microtask, after a timer, or a mix. */
export type DelayMode = "sync" | "micro" | "timer" | "mixed";

/** What a flatMap function returns. */
export type ExpansionForm = "array" | "generator" | "asyncGenerator" | "promiseOfArray";

/** One random stage of a chain. */
export interface StageSpec {
  readonly kind: "map" | "filter" | "flatMap";
  /** map: the addend; filter: the modulus (2..4); flatMap: the most children (0..3). */
  readonly param: number;
  readonly form: ExpansionForm;
  readonly workers: number;
  readonly maxsize: number;
  readonly delay: DelayMode;
  /** Timer delays in ms, used in turn by successive calls. */
  readonly delays: readonly number[];
}

/** An element of the model: its value and its index path. */
export interface ModelElement {
  readonly value: number;
  readonly path: readonly number[];
}

const mapValue = (value: number, param: number): number => (value * 3 + param) % 1009;
const keepValue = (value: number, param: number): boolean => value % param !== 0;
const childValues = (value: number, param: number): number[] => {
  const count = value % (param + 1);
  const children: number[] = [];
  for (let i = 0; i < count; i++) children.push((value + i * 7) % 1009);
  return children;
};

/**
 * Runs `source` through the chain with plain Array methods. Returns the output and, per
 * stage, the elements (value and index path) that stage's `f` must receive exactly once.
 */
export function model(source: readonly number[], stages: readonly StageSpec[]): {
  output: number[];
  inputs: ModelElement[][];
} {
  let elements: ModelElement[] = source.map((value, i) => ({ value, path: [i] }));
  const inputs: ModelElement[][] = [];
  for (const stage of stages) {
    inputs.push(elements);
    switch (stage.kind) {
      case "map":
        elements = elements.map((e) => ({ value: mapValue(e.value, stage.param), path: e.path }));
        break;
      case "filter":
        elements = elements.filter((e) => keepValue(e.value, stage.param));
        break;
      case "flatMap":
        elements = elements.flatMap((e) =>
          childValues(e.value, stage.param).map((value, i) => ({ value, path: [...e.path, i] })),
        );
        break;
    }
  }
  return { output: elements.map((e) => e.value), inputs };
}

/** The same chain with the Array methods on values only: the reference a user would write. */
export function arrayChain(source: readonly number[], stages: readonly StageSpec[]): number[] {
  let values = [...source];
  for (const stage of stages) {
    if (stage.kind === "map") values = values.map((v) => mapValue(v, stage.param));
    else if (stage.kind === "filter") values = values.filter((v) => keepValue(v, stage.param));
    else values = values.flatMap((v) => childValues(v, stage.param));
  }
  return values;
}

/** What the instrumented stage functions saw: per stage, index path -> values received. */
export class CallLog {
  readonly perStage: Map<string, number[]>[];
  /** Calls of `f` that began after the run's signal had aborted. */
  startedAfterAbort = 0;

  constructor(stages: number) {
    this.perStage = Array.from({ length: stages }, () => new Map<string, number[]>());
  }

  record(stage: number, index: readonly number[], value: number, signal: AbortSignal): void {
    if (signal.aborted) this.startedAfterAbort++;
    const calls = this.perStage[stage]!;
    const key = index.join(".");
    const seen = calls.get(key);
    if (seen === undefined) calls.set(key, [value]);
    else seen.push(value);
  }
}

/** Waits as `spec.delay` says for call number `call` with input `value`; `undefined` means "stay synchronous". */
function pause(spec: StageSpec, call: number, value: number): Promise<void> | undefined {
  switch (spec.delay) {
    case "sync":
      return undefined;
    case "micro":
      return Promise.resolve();
    case "timer":
      return sleep(spec.delays[call % spec.delays.length]!);
    case "mixed":
      return value % 2 === 0 ? undefined : sleep(spec.delays[call % spec.delays.length]!);
  }
}

/** `then` for a value or a promise, keeping a synchronous value synchronous. */
function after<T>(wait: Promise<void> | undefined, compute: () => T): T | Promise<T> {
  return wait === undefined ? compute() : wait.then(compute);
}

/** Adds stage `i` of `spec` to `pipeline`, with `f` recording each call in `log`. */
export function addStage(
  pipeline: Pipeline<number>,
  spec: StageSpec,
  i: number,
  log: CallLog,
  overrides: { workers?: number } = {},
): Pipeline<number> {
  let calls = 0;
  const options = { workers: overrides.workers ?? spec.workers, maxsize: spec.maxsize };
  switch (spec.kind) {
    case "map":
      return pipeline.map((x, ctx) => {
        log.record(i, ctx.index, x, ctx.signal);
        return after(pause(spec, calls++, x), () => mapValue(x, spec.param));
      }, options);
    case "filter":
      return pipeline.filter((x, ctx) => {
        log.record(i, ctx.index, x, ctx.signal);
        return after(pause(spec, calls++, x), () => keepValue(x, spec.param));
      }, options);
    case "flatMap":
      return pipeline.flatMap((x, ctx) => {
        log.record(i, ctx.index, x, ctx.signal);
        const call = calls++;
        const children = childValues(x, spec.param);
        switch (spec.form) {
          case "array":
            return after(pause(spec, call, x), () => children);
          case "generator":
            return after(pause(spec, call, x), () => children[Symbol.iterator]());
          case "promiseOfArray":
            return Promise.resolve(children);
          case "asyncGenerator":
            return (async function* () {
              for (const child of children) {
                await pause(spec, call, child);
                yield child;
              }
            })();
        }
      }, options);
  }
}

/** Checks that every stage's `f` received exactly the model's elements, each exactly once. */
export function checkCalls(log: CallLog, inputs: readonly ModelElement[][]): string | undefined {
  for (let s = 0; s < inputs.length; s++) {
    const expected = inputs[s]!;
    const seen = log.perStage[s]!;
    if (seen.size !== expected.length) {
      return `stage ${s}: f saw ${seen.size} distinct elements, the model has ${expected.length}`;
    }
    for (const element of expected) {
      const values = seen.get(element.path.join("."));
      if (values === undefined) return `stage ${s}: element [${element.path}] never reached f`;
      if (values.length !== 1) return `stage ${s}: element [${element.path}] reached f ${values.length} times`;
      if (values[0] !== element.value) {
        return `stage ${s}: element [${element.path}] reached f as ${values[0]}, expected ${element.value}`;
      }
    }
  }
  return undefined;
}

// ---- sources -------------------------------------------------------------------------

/** The forms a source may take. */
export type SourceKind = "array" | "generatorFunction" | "asyncGeneratorFunction" | "promise" | "pipeline";

/** A source of `values` in the form `kind`; re-runnable for every kind. */
export function sourceOf(values: readonly number[], kind: SourceKind): Pipeline<number> {
  switch (kind) {
    case "array":
      return pipe([...values]);
    case "generatorFunction":
      return pipe(function* () {
        yield* values;
      });
    case "asyncGeneratorFunction":
      return pipe(async function* () {
        let i = 0;
        for (const value of values) {
          if (i++ % 3 === 0) await Promise.resolve();
          yield value;
        }
      });
    case "promise":
      return pipe(Promise.resolve([...values]));
    case "pipeline":
      return pipe(pipe([...values]));
  }
}

// ---- consumers -----------------------------------------------------------------------

/** The ways of consuming a pipeline that give its elements. */
export type ConsumerKind = "toArray" | "await" | "forAwait" | "iterate";

/** Consumes `pipeline` the way `kind` says and returns its elements in arrival order. */
export async function consume<T>(pipeline: Pipeline<T>, kind: ConsumerKind): Promise<T[]> {
  switch (kind) {
    case "toArray":
      return pipeline.toArray();
    case "await":
      return await pipeline;
    case "forAwait": {
      const out: T[] = [];
      for await (const x of pipeline) out.push(x);
      return out;
    }
    case "iterate": {
      const out: T[] = [];
      const iterator = pipeline.iterate();
      for (;;) {
        const result = await iterator.next();
        if (result.done === true) return out;
        out.push(result.value);
      }
    }
  }
}

// ---- arbitraries ---------------------------------------------------------------------

export const delayModeArb: fc.Arbitrary<DelayMode> = fc.constantFrom("sync", "micro", "timer", "mixed");

/** A random stage; `kinds` limits which stage kinds appear. */
export function stageArb(
  kinds: readonly StageSpec["kind"][] = ["map", "filter", "flatMap"],
  maxsize: fc.Arbitrary<number> = fc.integer({ min: 0, max: 5 }),
): fc.Arbitrary<StageSpec> {
  return fc.record({
    kind: fc.constantFrom(...kinds),
    param: fc.integer({ min: 2, max: 4 }),
    form: fc.constantFrom<ExpansionForm>("array", "generator", "asyncGenerator", "promiseOfArray"),
    workers: fc.integer({ min: 1, max: 5 }),
    maxsize,
    delay: delayModeArb,
    delays: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 4 }),
  });
}

export const sourceKindArb: fc.Arbitrary<SourceKind> = fc.constantFrom(
  "array",
  "generatorFunction",
  "asyncGeneratorFunction",
  "promise",
  "pipeline",
);

export const consumerKindArb: fc.Arbitrary<ConsumerKind> = fc.constantFrom("toArray", "await", "forAwait", "iterate");

/** Numbers sorted ascending, for multiset comparison. */
export const sorted = (values: readonly number[]): number[] => [...values].sort((a, b) => a - b);

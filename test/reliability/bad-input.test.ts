/**
 * Bad input (docs/behaviour.md §2, §3, §7): a source that is not iterable, an iterator method that throws
 * or returns a non-iterator, a `next()` that returns a non-object, an `f` whose result cannot
 * be used, and options of the wrong type from untyped JavaScript callers. Each gets a clear
 * error (naming the method, what was expected and what was received) and leaves nothing running.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OptionsError, concat, each, filter, flatMap, map, pipe, type Pipeline } from "@sluice/dsl";
import { trackTimers } from "../helpers/timers.js";
import { UnhandledRejections, settleEventLoop } from "./support.js";

const unhandled = new UnhandledRejections();
beforeAll(() => unhandled.install());
afterAll(() => unhandled.uninstall());

/** What an untyped JavaScript caller can pass anywhere. */
type Untyped = any;

const activeTimers = trackTimers();

/**
 * Runs `source` through one instrumented stage with every consumer and checks that each run
 * fails with an error matching `expected`, calls no `f`, runs onStart and onDone once, and
 * leaves no timer and no unhandled rejection behind.
 */
async function expectRunFailure(source: () => unknown, expected: (error: unknown) => void): Promise<void> {
  const timersBefore = activeTimers();
  const unhandledBefore = unhandled.count;
  const consumers: Array<(p: Pipeline<unknown>) => Promise<unknown>> = [
    (p) => p.toArray(),
    (p) => p.run(),
    async (p) => {
      for await (const _ of p) void _;
    },
  ];
  for (const consume of consumers) {
    let calls = 0;
    let starts = 0;
    let dones = 0;
    const pipeline = pipe(source() as Untyped as unknown[]).map(
      (x) => {
        calls++;
        return x;
      },
      { onStart: () => void starts++ as Untyped, onDone: () => void dones++ },
    );
    const outcome = await consume(pipeline).then(
      () => ({ failed: false, error: undefined as unknown }),
      (error: unknown) => ({ failed: true, error }),
    );
    expect(outcome.failed).toBe(true);
    expected(outcome.error);
    expect({ calls, starts, dones }).toEqual({ calls: 0, starts: 1, dones: 1 });
  }
  await settleEventLoop();
  expect(activeTimers()).toBeLessThanOrEqual(timersBefore);
  expect(unhandled.count).toBe(unhandledBefore);
}

const typeErrorMatching =
  (pattern: RegExp) =>
  (error: unknown): void => {
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(pattern);
  };

describe("bad sources", () => {
  it("a value that cannot be a source is a TypeError at build time naming pipe() or concat() and what was received", () => {
    const cases: Array<[unknown, string]> = [
      [5, "5"],
      [null, "null"],
      [undefined, "undefined"],
      [{}, "an object (Object)"],
      [true, "true"],
      [Symbol.for("s"), "Symbol(s)"],
    ];
    for (const [value, received] of cases) {
      expect(() => pipe(value as Untyped)).toThrow(TypeError);
      expect(() => pipe(value as Untyped)).toThrow(new RegExp(`^pipe\\(\\): the source must be .*\\(received ${escape(received)}\\)$`));
      expect(() => concat([1], value as Untyped)).toThrow(new RegExp(`^concat\\(\\): the source must be .*\\(received ${escape(received)}\\)$`));
    }
  });

  it("a function or promise that resolves to a non-iterable fails the run with a TypeError and leaves nothing running", async () => {
    const notASource = typeErrorMatching(/^the source must resolve to .*\(received /);
    await expectRunFailure(() => () => 5, notASource);
    await expectRunFailure(() => Promise.resolve(5), notASource);
    await expectRunFailure(() => async () => ({}), notASource);
  });

  it("a Symbol.asyncIterator or Symbol.iterator method that throws fails the run with that error, as the same object", async () => {
    for (const key of [Symbol.asyncIterator, Symbol.iterator]) {
      const error = new Error("cannot open");
      await expectRunFailure(
        () => ({
          [key]() {
            throw error;
          },
        }),
        (seen) => expect(seen).toBe(error),
      );
    }
  });

  it("an iterator method that returns a non-iterator is a TypeError naming what it returned", async () => {
    await expectRunFailure(() => ({ [Symbol.asyncIterator]: () => 5 }), typeErrorMatching(/^the source has an iterator method that returned 5, not an iterator$/));
    await expectRunFailure(() => ({ [Symbol.iterator]: () => null }), typeErrorMatching(/^the source has an iterator method that returned null, not an iterator$/));
  });

  it("a next() that returns a non-object (sync, async, or not even a promise) is a TypeError naming the value", async () => {
    const nonObject = (value: string) => typeErrorMatching(new RegExp(`Iterator result ${value} is not an object`));
    await expectRunFailure(() => ({ [Symbol.iterator]: () => ({ next: () => 5 }) }), nonObject("5"));
    await expectRunFailure(() => ({ [Symbol.iterator]: () => ({ next: () => undefined }) }), nonObject("undefined"));
    await expectRunFailure(() => ({ [Symbol.asyncIterator]: () => ({ next: async () => null }) }), nonObject("null"));
    await expectRunFailure(() => ({ [Symbol.asyncIterator]: () => ({ next: () => 7 }) }), nonObject("7"));
    await expectRunFailure(() => ({ [Symbol.asyncIterator]: () => ({ next: async () => "x" }) }), nonObject('"x"'));
  });

  it("a next() that throws or rejects fails the run with that error, as the same object", async () => {
    const error = { notAnError: true };
    await expectRunFailure(
      () => ({
        [Symbol.iterator]: () => ({
          next: () => {
            throw error;
          },
        }),
      }),
      (seen) => expect(seen).toBe(error),
    );
    await expectRunFailure(() => ({ [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(error) }) }), (seen) => expect(seen).toBe(error));
  });
});

describe("bad results of f", () => {
  it("f returning Promise.reject() with no reason fails the run with undefined and leaves nothing running", async () => {
    const unhandledBefore = unhandled.count;
    let dones = 0;
    const pipeline = pipe([1, 2, 3]).map(() => Promise.reject(), { workers: 2, onDone: () => void dones++ });
    const seen = await pipeline.toArray().then(
      () => "resolved",
      (error: unknown) => ({ error }),
    );
    expect(seen).toEqual({ error: undefined });
    expect(dones).toBe(1);
    await settleEventLoop();
    expect(unhandled.count).toBe(unhandledBefore);
  });

  it("a flatMap f returning a non-iterable is a TypeError naming the stage and the value", async () => {
    for (const value of [5, null, { length: 2 }]) {
      const error = await pipe([1])
        .flatMap(() => value as Untyped, { name: "expand" })
        .toArray()
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toMatch(/^expand: f must return an Iterable or AsyncIterable, or a Promise of one \(received /);
    }
  });

  it("an onStart returning a non-object or a reserved key fails the run with an OptionsError before any call of f", async () => {
    for (const result of [5, "x", { signal: 1 }, { index: [] }, { stage: "s" }]) {
      let calls = 0;
      const error = await pipe([1, 2])
        .map(() => calls++, { onStart: () => result as Untyped })
        .toArray()
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OptionsError);
      expect((error as Error).message).toMatch(/^map#1: onStart must/);
      expect(calls).toBe(0);
    }
  });
});

describe("options of the wrong type from untyped JavaScript", () => {
  const badOptions: Array<[Untyped, RegExp]> = [
    [{ workers: "2" }, /options\.workers must be an integer >= 1, "auto", \{ min, max, initial \} or a ConcurrencyLimiter \(received "2"\)$/],
    [{ workers: 0 }, /options\.workers must be an integer >= 1 \(received 0\)$/],
    [{ workers: 2.5 }, /options\.workers must be an integer >= 1 \(received 2\.5\)$/],
    [{ workers: NaN }, /options\.workers must be an integer >= 1 \(received NaN\)$/],
    [{ workers: Infinity }, /options\.workers must be an integer >= 1 \(received Infinity\)$/],
    [{ workers: null }, /options\.workers must be an integer >= 1, "auto", .* or a ConcurrencyLimiter \(received null\)$/],
    [{ workers: "fast" }, /options\.workers must be an integer >= 1, "auto", \{ min, max, initial \} or a ConcurrencyLimiter \(received "fast"\)$/],
    [{ workers: { min: 5, max: 2 } }, /options\.workers\.min must be at most max \(2\) \(received 5\)$/],
    [{ workers: { min: 0 } }, /options\.workers\.min must be an integer >= 1 \(received 0\)$/],
    [{ workers: { initial: 100 } }, /options\.workers\.initial must be from min \(1\) to max \(64\) \(received 100\)$/],
    [{ workers: { mx: 8 } }, /options\.workers\.mx is not an option \(options are: min, max, initial\)$/],
    [{ isPushback: true }, /options\.isPushback must be a function \(received true\)$/],
    [{ cost: 3, rateLimit: { limit: 10, interval: 1000 } }, /options\.cost must be a function \(received 3\)$/],
    [{ cost: () => 1 }, /options\.cost must be given with a rateLimit: a cost is counted in units of the stage's rateLimit \(received a function\)$/],
    [{ maxsize: -1 }, /options\.maxsize must be an integer >= 0 .*\(received -1\)$/],
    [{ maxsize: "4" }, /options\.maxsize must be an integer >= 0 .*\(received "4"\)$/],
    [{ timeout: "5" }, /options\.timeout must be a number of milliseconds > 0 .*\(received "5"\)$/],
    [{ timeout: 0 }, /options\.timeout must be a number of milliseconds > 0 .*\(received 0\)$/],
    [{ timeout: -5 }, /options\.timeout must be a number of milliseconds > 0 .*\(received -5\)$/],
    [{ onTimeout: "ignore" }, /options\.onTimeout must be one of "error", "skip" \(received "ignore"\)$/],
    [{ name: 5 }, /options\.name must be a non-empty string \(received 5\)$/],
    [{ onStart: "x" }, /options\.onStart must be a function \(received "x"\)$/],
    [{ onDone: 1 }, /options\.onDone must be a function \(received 1\)$/],
    [{ worker: 2 }, /options\.worker is not an option \(options are: /],
    [5, /options must be an object \(received 5\)$/],
    [null, /options must be an object \(received null\)$/],
    [[], /options must be an object \(received an array\)$/],
  ];

  it("every stage method and operator throws an OptionsError naming the method, the option, what was received and what is allowed", () => {
    const methods = ["map", "filter", "flatMap", "each"] as const;
    const operators = { map, filter, flatMap, each } as Record<(typeof methods)[number], (f: unknown, o: unknown) => unknown>;
    for (const method of methods) {
      for (const [options, message] of badOptions) {
        const viaMethod = (): unknown => (pipe([1]) as Untyped)[method]((x: unknown) => x, options);
        const viaOperator = (): unknown => operators[method]((x: unknown) => x, options);
        for (const build of [viaMethod, viaOperator]) {
          let error: unknown;
          try {
            build();
          } catch (e) {
            error = e;
          }
          expect(error).toBeInstanceOf(OptionsError);
          expect(error).toBeInstanceOf(TypeError);
          expect((error as Error).name).toBe("OptionsError");
          expect((error as Error).message.startsWith(`${method}(): `)).toBe(true);
          expect((error as Error).message).toMatch(message);
        }
      }
    }
  });

  it("a non-function f or operator is an error naming what was received", () => {
    for (const f of [undefined, "x", 5, {}]) {
      expect(() => pipe([1]).map(f as Untyped)).toThrow(OptionsError);
      expect(() => pipe([1]).map(f as Untyped)).toThrow(/^map\(\): f must be a function \(received /);
      expect(() => flatMap(f as Untyped)).toThrow(/^flatMap\(\): f must be a function \(received /);
    }
    expect(() => pipe([1]).through(5 as Untyped)).toThrow(/^through\(\): every operator must be a function \(received 5\)$/);
  });

  it("toArray, run and iterate reject options that are not { signal?: AbortSignal } with an error naming the method, what was received and what is allowed", async () => {
    const controller = new AbortController();
    const bad: unknown[] = [{ signal: "nope" }, { signal: {} }, { signal: 5 }, null, 5, "x", controller.signal, { sigal: controller.signal }];
    for (const options of bad) {
      for (const method of ["toArray", "run", "iterate"] as const) {
        let starts = 0;
        const pipeline = pipe([1, 2]).map((x) => x, { onStart: () => (starts++, {}) });
        let error: unknown;
        try {
          const result = (pipeline as Untyped)[method](options);
          if (method === "iterate") await result.next();
          else await result;
        } catch (e) {
          error = e;
        }
        expect({ method, options, error: error instanceof TypeError }).toEqual({ method, options, error: true });
        // Like stage options: what was received, or for an unknown key the options there are.
        expect((error as Error).message).toMatch(new RegExp(`^${method}\\(\\): options.* \\((received|options are:) .*\\)$`));
        expect(starts).toBe(0);
      }
    }
  });
});

/** Escapes `text` for use inside a RegExp. */
function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

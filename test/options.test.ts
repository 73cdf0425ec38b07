import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { OptionsError, batch, defaultMaxsize, each, filter, flatMap, map, pipe, rateLimiter, resolveStageOptions, source } from "@sluice/dsl";

type Method = "map" | "filter" | "flatMap" | "each";
const methods: readonly Method[] = ["map", "filter", "flatMap", "each"];
const OPTION_LIST = "workers, maxsize, timeout, onTimeout, name, onStart, onDone, rateLimit, onError, isPushback, cost, retry, key";

/** Builds a stage with `method` as a pipeline method. */
function viaMethod(method: Method, f: unknown, options: unknown): unknown {
  const p = pipe([1]) as unknown as Record<Method, (f: unknown, options: unknown) => unknown>;
  return p[method](f, options);
}

/** Builds the operator for `method` (validation happens here, before any pipeline). */
function viaOperator(method: Method, f: unknown, options: unknown): unknown {
  const operators = { map, filter, flatMap, each } as unknown as Record<Method, (f: unknown, options: unknown) => unknown>;
  return operators[method](f, options);
}

function thrown(build: () => unknown): unknown {
  try {
    build();
  } catch (error) {
    return error;
  }
  throw new Error("expected the build to throw");
}

const identity = (x: unknown) => [x];

const badOptions: ReadonlyArray<readonly [string, Record<string, unknown>, string]> = [
  ["workers: 0", { workers: 0 }, "options.workers must be an integer >= 1 (received 0)"],
  ["workers: -1", { workers: -1 }, "options.workers must be an integer >= 1 (received -1)"],
  ["workers: 2.5", { workers: 2.5 }, "options.workers must be an integer >= 1 (received 2.5)"],
  ["workers: NaN", { workers: Number.NaN }, "options.workers must be an integer >= 1 (received NaN)"],
  ["workers: Infinity", { workers: Number.POSITIVE_INFINITY }, "options.workers must be an integer >= 1 (received Infinity)"],
  ['workers: "2"', { workers: "2" }, 'options.workers must be an integer >= 1, "auto", { min, max, initial } or a ConcurrencyLimiter (received "2")'],
  ["maxsize: -1", { maxsize: -1 }, "options.maxsize must be an integer >= 0 (0 means unbounded) (received -1)"],
  ["maxsize: 1.5", { maxsize: 1.5 }, "options.maxsize must be an integer >= 0 (0 means unbounded) (received 1.5)"],
  ["maxsize: null", { maxsize: null }, "options.maxsize must be an integer >= 0 (0 means unbounded) (received null)"],
  ["timeout: 0", { timeout: 0 }, "options.timeout must be a number of milliseconds > 0"],
  ["timeout: -5", { timeout: -5 }, "options.timeout must be a number of milliseconds > 0"],
  ['timeout: "5"', { timeout: "5" }, 'options.timeout must be a number of milliseconds > 0 (at most 2147483647) (received "5")'],
  ["timeout: 2**31", { timeout: 2 ** 31 }, "(at most 2147483647) (received 2147483648)"],
  ['onTimeout: "drop"', { onTimeout: "drop" }, 'options.onTimeout must be one of "error", "skip" (received "drop")'],
  ['name: ""', { name: "" }, 'options.name must be a non-empty string (received "")'],
  ["name: 5", { name: 5 }, "options.name must be a non-empty string (received 5)"],
  ['onStart: "x"', { onStart: "x" }, 'options.onStart must be a function (received "x")'],
  ["onDone: 1", { onDone: 1 }, "options.onDone must be a function (received 1)"],
  ['onError: "ignore"', { onError: "ignore" }, 'options.onError must be one of "fail", "skip", "collect", or a function (received "ignore")'],
  ["onError: null", { onError: null }, 'options.onError must be one of "fail", "skip", "collect", or a function (received null)'],
  ["retry: -1", { retry: -1 }, "options.retry must be an integer >= 0 (the number of retries) or { retries, minDelay, maxDelay, factor, jitter, maxRetryTime, shouldRetry, delay } (received -1)"],
  ["retry: 1.5", { retry: 1.5 }, "options.retry must be an integer >= 0 (the number of retries)"],
  ['retry: "3"', { retry: "3" }, 'options.retry must be an integer >= 0 (the number of retries) or { retries'],
  ["retry.retries: -1", { retry: { retries: -1 } }, "options.retry.retries must be an integer >= 0 (received -1)"],
  ["retry without retries", { retry: { minDelay: 5 } }, "options.retry.retries must be an integer >= 0 (received undefined)"],
  ["retry.minDelay: -1", { retry: { retries: 1, minDelay: -1 } }, "options.retry.minDelay must be a number of milliseconds >= 0 (at most 2147483647) (received -1)"],
  ["retry.factor: 0.5", { retry: { retries: 1, factor: 0.5 } }, "options.retry.factor must be a number from 1 to 1000 (received 0.5)"],
  ['retry.jitter: "half"', { retry: { retries: 1, jitter: "half" } }, 'options.retry.jitter must be "full" or "none" (received "half")'],
  ["retry.maxRetryTime: 0", { retry: { retries: 1, maxRetryTime: 0 } }, "options.retry.maxRetryTime must be a number of milliseconds > 0"],
  ["retry.shouldRetry: true", { retry: { retries: 1, shouldRetry: true } }, "options.retry.shouldRetry must be a function (received true)"],
  ["retry.delay: 100", { retry: { retries: 1, delay: 100 } }, "options.retry.delay must be a function (received 100)"],
  [
    "retry with an unknown key",
    { retry: { retries: 1, backoff: 2 } },
    "options.retry.backoff is not an option (options are: retries, minDelay, maxDelay, factor, jitter, maxRetryTime, shouldRetry, delay)",
  ],
  ["key: 1", { key: 1 }, "options.key must be a function (received 1)"],
  ['key: "accountId"', { key: "accountId" }, 'options.key must be a function (received "accountId")'],
  // map's list goes on with its own option, fallback.
  ["an unknown key", { foo: 1 }, `options.foo is not an option (options are: ${OPTION_LIST}`],
  ["a misspelt key", { worker: 2 }, `options.worker is not an option (options are: ${OPTION_LIST}`],
];

describe("bad options are OptionsErrors at build time", () => {
  for (const method of methods) {
    describe(`${method}()`, () => {
      it.each(badOptions)(`%s, as a method and as an operator`, (_name, options, message) => {
        for (const build of [viaMethod, viaOperator]) {
          const error = thrown(() => build(method, identity, options));
          expect(error).toBeInstanceOf(OptionsError);
          expect((error as Error).message).toContain(`${method}(): `);
          expect((error as Error).message).toContain(message);
        }
      });
    });
  }

  it("the message has the documented form", () => {
    expect(() => pipe([1]).map((x) => x, { workers: 0 })).toThrow(
      new OptionsError("map(): options.workers must be an integer >= 1 (received 0)"),
    );
    expect(thrown(() => pipe([1]).filter(() => true, { foo: 1 } as never))).toHaveProperty(
      "message",
      `filter(): options.foo is not an option (options are: ${OPTION_LIST})`,
    );
  });

  it.each(methods)("%s(): a non-function f is an OptionsError naming f and what was received", (method) => {
    for (const build of [viaMethod, viaOperator]) {
      const error = thrown(() => build(method, 5, undefined));
      expect(error).toBeInstanceOf(OptionsError);
      expect((error as Error).message).toBe(`${method}(): f must be a function (received 5)`);
      expect((thrown(() => build(method, "f", {})) as Error).message).toBe(`${method}(): f must be a function (received "f")`);
    }
  });

  it.each([
    ["a number", 5, "5"],
    ["null", null, "null"],
    ["an array", [], "an array"],
    ["a string", "fast", '"fast"'],
  ])("options that are %s are an OptionsError", (_what, options, received) => {
    const error = thrown(() => viaMethod("map", identity, options));
    expect(error).toBeInstanceOf(OptionsError);
    expect((error as Error).message).toBe(`map(): options must be an object (received ${received})`);
  });

  it("nothing runs when a later stage's options are bad", async () => {
    let calls = 0;
    const p = pipe(() => {
      calls++;
      return [1];
    }).map((x) => x);
    expect(() => p.filter(() => true, { workers: 0 })).toThrow(OptionsError);
    expect(calls).toBe(0);
  });

  it("OptionsError is a TypeError with the stable name \"OptionsError\"", () => {
    const error = thrown(() => pipe([1]).map((x) => x, { maxsize: -1 }));
    expect(error).toBeInstanceOf(OptionsError);
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe("OptionsError");
    expect(new OptionsError("m").name).toBe("OptionsError");
  });
});

describe("OptionsError carries its facts as fields", () => {
  /** The error `build` throws, as an OptionsError. */
  function optionsErrorOf(build: () => unknown): OptionsError {
    const error = thrown(build);
    expect(error).toBeInstanceOf(OptionsError);
    return error as OptionsError;
  }

  it("a bad stage option: the method, the path from the argument, what was expected and received", () => {
    const error = optionsErrorOf(() => pipe([1]).map((x) => x, { workers: 0 }));
    expect(error.method).toBe("map");
    expect(error.issues).toEqual([
      { path: ["options", "workers"], expected: "an integer >= 1", received: 0, message: "options.workers must be an integer >= 1 (received 0)" },
    ]);
    expect(error.message).toBe(`map(): ${error.issues[0]!.message}`);
  });

  it("a nested option keeps its whole path, and the value as given", () => {
    const shouldRetry = "yes";
    const error = optionsErrorOf(() => filter(() => true, { retry: { retries: 1, shouldRetry } } as never));
    expect(error.method).toBe("filter");
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]).toMatchObject({ path: ["options", "retry", "shouldRetry"], expected: "a function", received: shouldRetry });
  });

  it("a missing required key is reported by the schema, with undefined received", () => {
    const error = optionsErrorOf(() => pipe([1]).each(() => {}, { retry: {} as never }));
    expect(error.message).toBe("each(): options.retry.retries must be an integer >= 0 (received undefined)");
    expect(error.issues[0]).toMatchObject({ path: ["options", "retry", "retries"], expected: "an integer >= 0", received: undefined });
    const limiter = optionsErrorOf(() => rateLimiter({ limit: 2 } as never));
    expect(limiter.message).toBe("rateLimiter(): options.interval must be a number of milliseconds > 0 (at most 2147483647) (received undefined)");
    expect(limiter.issues[0]!.path).toEqual(["options", "interval"]);
  });

  it("a key that is not an option: expected absent, received its value", () => {
    const error = optionsErrorOf(() => pipe([1]).flatMap(identity, { worker: 2 } as never));
    expect(error.method).toBe("flatMap");
    expect(error.issues).toEqual([
      { path: ["options", "worker"], expected: `absent (options are: ${OPTION_LIST})`, received: 2, message: `options.worker is not an option (options are: ${OPTION_LIST})` },
    ]);
  });

  it("bad run options name the consuming method", async () => {
    const error = await pipe([1])
      .toArray({ signal: "nope" } as never)
      .then(() => undefined, (failure: unknown) => failure);
    expect(error).toBeInstanceOf(OptionsError);
    expect((error as OptionsError).method).toBe("toArray");
    expect((error as OptionsError).issues).toEqual([
      { path: ["options", "signal"], expected: "an AbortSignal", received: "nope", message: 'options.signal must be an AbortSignal (received "nope")' },
    ]);
    const iterate = optionsErrorOf(() => pipe([1]).iterate(5 as never));
    expect(iterate.method).toBe("iterate");
    expect(iterate.issues[0]).toMatchObject({ path: ["options"], expected: "an object", received: 5 });
  });

  it("other arguments: f, batch's size, a source's settle", () => {
    expect(optionsErrorOf(() => map(5 as never)).issues[0]).toMatchObject({ path: ["f"], expected: "a function", received: 5 });
    expect(optionsErrorOf(() => batch(0)).issues[0]).toMatchObject({ path: ["size"], expected: "an integer >= 1", received: 0 });
    const settle = optionsErrorOf(() => source([1], { settle: 1 } as never));
    expect(settle.method).toBe("source");
    expect(settle.issues[0]).toMatchObject({ path: ["options", "settle"], expected: "a function", received: 1 });
  });

  it("the fields are data beside the message, not part of what an error compares by", () => {
    const error = optionsErrorOf(() => pipe([1]).map((x) => x, { maxsize: -1 }));
    expect(Object.keys(error)).not.toContain("issues");
    expect(Object.isFrozen(error.issues)).toBe(true);
    expect(new OptionsError("made by hand").issues).toEqual([]);
    expect(new OptionsError("made by hand").method).toBeUndefined();
  });
});

describe("valid options", () => {
  it("accepts every option at its boundary", async () => {
    const p = pipe([1, 2, 3]).map((x) => x * 2, {
      workers: 1,
      maxsize: 0,
      timeout: 2_147_483_647,
      onTimeout: "skip",
      name: "x",
      onStart: () => ({}),
      onDone: () => undefined,
    });
    expect(await p).toEqual([2, 4, 6]);
  });

  it("an empty options object means the defaults", async () => {
    expect(await pipe([1, 2]).filter(() => true, {})).toEqual([1, 2]);
  });

  it("the options object is not mutated", () => {
    const options = Object.freeze({ workers: 3, maxsize: 5 });
    pipe([1]).map((x) => x, options);
    expect(options).toEqual({ workers: 3, maxsize: 5 });
  });
});

describe("defaultMaxsize", () => {
  it.each([
    [1, 16],
    [8, 16],
    [16, 16],
    [17, 17],
    [100, 100],
  ])("is max(16, workers): workers %i gives %i", (workers, expected) => {
    expect(defaultMaxsize(workers)).toBe(expected);
  });
});

describe("options validated again only when they differ", () => {
  // Building the same pipeline per request reuses the settings resolved from equal options
  // (docs/design.md §2); these check that no changed option slips through the reuse.
  const f = (x: number) => x;

  it("an options object changed since the last build is checked again", () => {
    const options: { workers: number } = { workers: 2 };
    pipe([1]).map(f, options);
    options.workers = 0;
    expect(() => pipe([1]).map(f, options)).toThrow(new OptionsError("map(): options.workers must be an integer >= 1 (received 0)"));
  });

  it("a retry object changed inside is checked again, though the options hold the same object", () => {
    const retry: { retries: number } = { retries: 1 };
    const options = { retry };
    pipe([1]).map(f, options);
    retry.retries = -1;
    expect(() => pipe([1]).map(f, options)).toThrow(OptionsError);
  });

  it("equal options at another depth still give the stage its own default name", async () => {
    const names: string[] = [];
    await pipe([1])
      .map(f, { workers: 2 })
      .map(f, { workers: 2 })
      .toArray({ onProgress: (stats) => names.splice(0, names.length, ...stats.stages.map((stage) => stage.name)) });
    expect(names).toEqual(["map#1", "map#2"]);
  });

  it("gives what a fresh check gives, for any sequence of builds with reused and changed options (property)", () => {
    const value = fc.oneof(fc.integer({ min: -1, max: 3 }), fc.constant("skip"), fc.constant(undefined), fc.constant(f));
    const key = fc.constantFrom("workers", "maxsize", "timeout", "onError", "name", "wrokers");
    const step = fc.record({ target: fc.nat(2), key, value, build: fc.boolean(), stage: fc.nat(2) });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 30 }), (steps) => {
        const objects: Record<string, unknown>[] = [{}, { workers: 2 }, { workers: 2, maxsize: 4 }];
        for (const { target, key, value, build, stage } of steps) {
          const options = objects[target]!;
          if (!build) {
            options[key] = value;
            continue;
          }
          const expected = outcome(() => resolveStageOptions("map", { ...options }));
          const built = outcome(() => {
            let p = pipe([1]);
            for (let i = 0; i < stage; i++) p = p.map(f);
            return p.map(f, options);
          });
          expect(built.error).toBe(expected.error);
        }
      }),
      { numRuns: 200 },
    );
  });
});

/** The message an attempt throws, if it throws. */
function outcome(attempt: () => unknown): { error: string | undefined } {
  try {
    attempt();
    return { error: undefined };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

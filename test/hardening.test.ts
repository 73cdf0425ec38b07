/**
 * Regression tests for the engine defects found by hostile but fair use (issue 9). Each
 * test failed before its fix. The rules they pin down are recorded in docs/behaviour.md
 * ("Decisions").
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { OptionsError, TimeoutError, pipe } from "@sluice/dsl";
import { ConcurrencyProbe, sorted } from "./helpers/probes.js";
import { range, sleep, tick } from "./helpers/time.js";
import { recordUnhandledRejections } from "./helpers/unhandled.js";

const unhandled = recordUnhandledRejections();

// A second settlement from a timer used to throw the engine's own TypeError into that timer.
const uncaught: unknown[] = [];
const onUncaught = (error: unknown): void => void uncaught.push(error);
beforeEach(() => {
  uncaught.length = 0;
  process.on("uncaughtException", onUncaught);
});
afterEach(() => {
  process.off("uncaughtException", onUncaught);
  expect(unhandled).toEqual([]);
});

/** Fails instead of hanging when `promise` does not settle within `ms`. */
function within<T>(promise: Promise<T>, ms = 2_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

const never = (): Promise<never> => new Promise<never>(() => undefined);

describe("a thenable that settles more than once: the first settlement wins", () => {
  it("ignores a second fulfilment from f's thenable", async () => {
    const twice = (x: number): PromiseLike<number> => ({
      then(ok: (value: number) => void) {
        ok(x);
        ok(x * 10);
      },
    } as PromiseLike<number>);
    expect(sorted(await pipe([1, 2, 3]).map(twice, { workers: 2 }))).toEqual([1, 2, 3]);
  });

  it("ignores a rejection after a fulfilment", async () => {
    const thenable = (x: number): PromiseLike<number> => ({
      then(ok: (value: number) => void, bad: (error: unknown) => void) {
        ok(x);
        bad(new Error("late"));
      },
    } as PromiseLike<number>);
    expect(sorted(await pipe([1, 2, 3]).map(thenable))).toEqual([1, 2, 3]);
  });

  it("ignores a settlement that comes later from a timer, and never frees a slot twice", async () => {
    const probe = new ConcurrencyProbe();
    const late = (x: number): PromiseLike<number> => {
      probe.current++;
      probe.started++;
      probe.max = Math.max(probe.max, probe.current);
      return {
        then(ok: (value: number) => void) {
          setTimeout(() => {
            probe.current--;
            ok(x);
            setTimeout(() => ok(x * 10), 1);
          }, 1);
        },
      } as PromiseLike<number>;
    };
    const result = await pipe(() => range(20)).map(late, { workers: 2 });
    expect(sorted(result)).toEqual([...range(20)]);
    await sleep(10);
    expect(uncaught).toEqual([]);
    expect(probe.max).toBeLessThanOrEqual(2);
  });

  it("subscribes once to a promise subclass whose then calls back twice", async () => {
    class Twice<T> extends Promise<T> {
      override then<A = T, B = never>(
        ok?: ((value: T) => A | PromiseLike<A>) | null,
        bad?: ((reason: unknown) => B | PromiseLike<B>) | null,
      ): Promise<A | B> {
        void super.then(ok, bad);
        return super.then(ok, bad);
      }
    }
    const probe = new ConcurrencyProbe();
    const f = probe.wrap((x: number) => x);
    const result = await pipe(() => range(10)).map((x) => Twice.resolve(x).then(f), { workers: 2 });
    expect(sorted(result)).toEqual([...range(10)]);
  });

  it("runs onDone's thenable once: the run waits for every other stage's onDone", async () => {
    let slowDone = false;
    const result = await pipe([1, 2])
      .map((x) => x, { onDone: () => ({ then: (ok: () => void) => (ok(), ok()) }) })
      .map((x) => x, {
        onDone: async () => {
          await sleep(20);
          slowDone = true;
        },
      });
    expect(sorted(result)).toEqual([1, 2]);
    expect(slowDone).toBe(true);
  });

  it("takes the first settlement of onStart's thenable", async () => {
    const result = await pipe([1]).map((x, ctx) => x + ctx.n, {
      onStart: () => ({ then: (ok: (value: { n: number }) => void) => (ok({ n: 1 }), ok({ n: 100 })) }) as PromiseLike<{ n: number }>,
    });
    expect(result).toEqual([2]);
  });
});

describe("iterate(): concurrent next() calls", () => {
  it("queues them and settles them in order, as an async generator does", async () => {
    const it = pipe([1, 2, 3]).map(async (x) => (await sleep(1), x)).iterate();
    const results = await within(Promise.all([it.next(), it.next(), it.next(), it.next(), it.next()]));
    expect(results).toEqual([
      { done: false, value: 1 },
      { done: false, value: 2 },
      { done: false, value: 3 },
      { done: true, value: undefined },
      { done: true, value: undefined },
    ]);
  });

  it("settles every queued call when the run fails: the first rejects, the rest are done", async () => {
    const boom = new Error("boom");
    const it = pipe([1]).map(async () => {
      await sleep(2);
      throw boom;
    }).iterate();
    const outcomes = await within(Promise.allSettled([it.next(), it.next(), it.next()]));
    expect(outcomes[0]).toEqual({ status: "rejected", reason: boom });
    expect(outcomes.slice(1)).toEqual([
      { status: "fulfilled", value: { done: true, value: undefined } },
      { status: "fulfilled", value: { done: true, value: undefined } },
    ]);
  });
});

describe("flatMap returning a Pipeline (async-iterable and thenable)", () => {
  it("streams the inner pipeline instead of awaiting it as an array", async () => {
    function* naturals(): Generator<number> {
      for (let i = 0; ; i++) yield i;
    }
    const seen: number[] = [];
    const run = (async () => {
      for await (const x of pipe([1]).flatMap(() => pipe(naturals).map((n) => n * 2))) {
        seen.push(x);
        if (seen.length === 3) break;
      }
    })();
    await within(run);
    expect(seen).toEqual([0, 2, 4]);
  });

  it("emits every element of a finite inner pipeline", async () => {
    const result = await pipe([1, 2]).flatMap((x) => pipe([x, x * 10])).ordered();
    expect(result).toEqual([1, 10, 2, 20]);
  });
});

describe("flatMap: timeout bounds each step of the expansion", () => {
  it("fails with a TimeoutError when the next item does not come in time", async () => {
    const error = await within(
      pipe([1])
        .flatMap(async function* () {
          yield 1;
          await never();
        }, { timeout: 30 })
        .toArray()
        .catch((e: unknown) => e),
    );
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).stage).toBe("flatMap#1");
  });

  it("with onTimeout 'skip' keeps the items already emitted and drops the rest", async () => {
    let closed = false;
    const result = await within(
      pipe([1, 2]).flatMap(async function* (x) {
        try {
          yield x;
          if (x === 2) await never();
          yield x * 10;
        } finally {
          closed = true;
        }
      }, { timeout: 30, onTimeout: "skip" }).ordered().toArray(),
    );
    expect(result).toEqual([1, 10, 2]);
    expect(closed).toBe(true);
  });

  it("does not count time blocked downstream", async () => {
    const out: number[] = [];
    for await (const x of pipe([1]).flatMap(async function* () {
      for (let i = 0; i < 4; i++) yield i;
    }, { timeout: 20, maxsize: 1 })) {
      out.push(x);
      await sleep(40);
    }
    expect(out).toEqual([0, 1, 2, 3]);
  });

  it("aborts ctx.signal of the expansion on timeout", async () => {
    let reason: unknown;
    await expect(
      pipe([1]).flatMap(async function* (_x, ctx) {
        yield 1;
        await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve()));
        reason = ctx.signal.reason;
      }, { timeout: 20 }).toArray(),
    ).rejects.toBeInstanceOf(TimeoutError);
    await tick();
    expect(reason).toBeInstanceOf(TimeoutError);
  });
});

describe("hooks", () => {
  it("runs onDone once when a synchronous onStart aborts the caller's signal", async () => {
    const controller = new AbortController();
    const reason = new Error("stop");
    let done = 0;
    const run = pipe([1, 2]).map((x) => x, {
      onStart: () => {
        controller.abort(reason);
        return {};
      },
      onDone: () => void done++,
    });
    await expect(run.toArray({ signal: controller.signal })).rejects.toBe(reason);
    expect(done).toBe(1);
  });

  it("rejects a class instance from onStart with an OptionsError that shows the wrapping form", async () => {
    class Client {
      get(x: number): number {
        return x;
      }
    }
    let calls = 0;
    const error = await pipe([1])
      .map((x) => (calls++, x), { onStart: () => new Client() as unknown as { client?: never } })
      .toArray()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OptionsError);
    expect((error as Error).message).toMatch(/map#1: onStart must return a plain object/);
    expect((error as Error).message).toContain("() => ({ client: new Client() })");
    expect(calls).toBe(0);
  });

  it("still accepts plain objects and objects without a prototype", async () => {
    const bare = Object.assign(Object.create(null) as object, { n: 2 }) as { n: number };
    expect(await pipe([1]).map((x, ctx) => x * ctx.n, { onStart: () => bare })).toEqual([2]);
  });
});

describe("sync generators whose own code tears the run down", () => {
  it("closes a source generator once it stops executing, so its finally runs", async () => {
    const controller = new AbortController();
    const reason = new Error("stop");
    let finallyRan = 0;
    function* source(): Generator<number> {
      try {
        yield 1;
        controller.abort(reason);
        yield 2;
        yield 3;
      } finally {
        finallyRan++;
      }
    }
    await expect(pipe(source).toArray({ signal: controller.signal })).rejects.toBe(reason);
    expect(finallyRan).toBe(1);
  });

  it("closes a flatMap generator the same way", async () => {
    const controller = new AbortController();
    const reason = new Error("stop");
    let finallyRan = 0;
    const run = pipe([1]).flatMap(function* () {
      try {
        yield 1;
        controller.abort(reason);
        yield 2;
      } finally {
        finallyRan++;
      }
    });
    await expect(run.toArray({ signal: controller.signal })).rejects.toBe(reason);
    expect(finallyRan).toBe(1);
  });
});

describe("flatMap expansions do not starve the event loop", () => {
  it("an async generator that never awaits real work still lets a caller's abort through", async () => {
    const infinite = async function* (): AsyncGenerator<number> {
      for (let i = 0; ; i++) yield i;
    };
    const error = await within(pipe([1]).flatMap(infinite).run({ signal: AbortSignal.timeout(30) }).catch((e: unknown) => e));
    expect((error as Error).name).toBe("TimeoutError");
  });

  it("nor does one that re-yields a large array", async () => {
    const big = Array.from({ length: 5_000_000 }, (_, i) => i);
    const spread = async function* (): AsyncGenerator<number> {
      for (const y of big) yield y;
    };
    const error = await within(pipe([1]).flatMap(spread).run({ signal: AbortSignal.timeout(30) }).catch((e: unknown) => e));
    expect((error as Error).name).toBe("TimeoutError");
  });
});

describe("flatMap: results that are not iterables of elements", () => {
  it("a bad iterator is a TypeError naming the stage", async () => {
    const bad = { [Symbol.iterator]: () => 5 } as unknown as Iterable<number>;
    const error = await pipe([1]).flatMap(() => bad).toArray().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe("flatMap#1: f's result has an iterator method that returned 5, not an iterator");
  });

  it("a string is a TypeError naming the stage, not split into characters", async () => {
    const error = await pipe(["abc"]).flatMap((s) => s as unknown as string[]).toArray().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(/^flatMap#1: f returned a string \("abc"\)/);
  });

  it("a non-iterable is a TypeError naming the stage", async () => {
    const error = await pipe([1]).flatMap(() => 5 as unknown as number[]).toArray().catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/^flatMap#1: f must return an Iterable or AsyncIterable, or a Promise of one \(received 5\)$/);
  });
});

describe("after a failure", () => {
  it("a for await consumer gets no buffered element: its next next() rejects with the run's error", async () => {
    const boom = new Error("boom");
    // A slow onDone keeps the run settling while elements are still buffered.
    const it = pipe([0, 1, 2, 3])
      .map((x) => {
        if (x === 2) throw boom;
        return x;
      }, { onDone: () => sleep(20) })
      .iterate();
    await expect(it.next()).rejects.toBe(boom);
    expect(await it.next()).toEqual({ done: true, value: undefined });
  });

  it("also when the failure comes while the consumer is busy", async () => {
    const boom = new Error("boom");
    const it = pipe([0, 1, 2, 3, 4])
      .map(async (x) => {
        if (x === 4) {
          await sleep(5);
          throw boom;
        }
        return x;
      }, { workers: 5, onDone: () => sleep(40) })
      .iterate();
    const first = await it.next();
    expect(first.done).toBe(false);
    await sleep(15);
    await expect(it.next()).rejects.toBe(boom);
  });
});

describe("each layer names its own method in errors", () => {
  it("pipe() with a non-function operator names pipe()", () => {
    expect(() => pipe([1], 5 as never)).toThrow(/^pipe\(\): every operator must be a function/);
  });

  it("through() names through()", () => {
    expect(() => pipe([1]).through(5 as never)).toThrow(/^through\(\): every operator must be a function/);
  });
});

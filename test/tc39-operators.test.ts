/**
 * The TC39 operators (docs/behaviour.md §17): take, takeWhile and drop; the terminals reduce,
 * some, every and find; tap and scan; and the `fallback` stage option. take, takeWhile and
 * the early terminals stop pulling once satisfied and tear down what is upstream, and the
 * run ends normally.
 */
import { describe, expect, it } from "vitest";
import {
  ElementError,
  OptionsError,
  drop,
  map,
  pipe,
  scan,
  source,
  take,
  takeWhile,
  tap,
  type Pipeline,
  type RunStats,
  type SourceOutcome,
} from "@sluice/dsl";
import { CountingSource, ConcurrencyProbe, sorted } from "./helpers/probes.js";
import { deferred, range, sleep, until } from "./helpers/time.js";
import { recordUnhandledRejections } from "./helpers/unhandled.js";

const unhandled = recordUnhandledRejections();

/** A call that ends only when its signal aborts, counting the aborts it saw. */
function untilAborted(signal: AbortSignal, aborts: { count: number }): Promise<never> {
  return new Promise((_, reject) =>
    signal.addEventListener("abort", () => {
      aborts.count++;
      reject(signal.reason);
    }),
  );
}

/** §4's pull bound for one stage of `workers` and `maxsize` after `k` elements were taken. */
const pullBound = (k: number, workers: number, maxsize: number): number => k + workers + maxsize + maxsize + 1;

describe("take(n)", () => {
  it("emits the first n elements in arrival order and ends normally", async () => {
    expect(await pipe(() => range(10)).take(3)).toEqual([0, 1, 2]);
    expect(await pipe([1, 2]).take(5)).toEqual([1, 2]);
    expect(await pipe([1, 2, 3]).take(0)).toEqual([]);
    expect(await pipe([]).take(2)).toEqual([]);
  });

  it("stops pulling a lazy infinite source within §4's bound and closes it", async () => {
    const src = new CountingSource();
    const out = await pipe(src)
      .map(async (x) => x * 2, { workers: 2, maxsize: 2 })
      .take(5);
    expect(out).toHaveLength(5);
    expect(src.pulls).toBeLessThanOrEqual(pullBound(5, 2, 2));
    expect(src.finallyRan).toBe(1);
  });

  it("aborts the in-flight calls upstream, runs onDone once, and resolves with what was emitted", async () => {
    const aborts = { count: 0 };
    let dones = 0;
    let started = 0;
    const out = await pipe(new CountingSource())
      .map(
        (x, ctx) => {
          started++;
          return x < 2 ? sleep(5).then(() => x) : untilAborted(ctx.signal, aborts);
        },
        { workers: 4, maxsize: 1, onDone: () => void dones++ },
      )
      .take(2);
    expect(sorted(out)).toEqual([0, 1]);
    // Every call but the two that finished was in flight (at least calls 2 and 3): each saw its signal abort.
    expect(aborts.count).toBe(started - 2);
    expect(aborts.count).toBeGreaterThanOrEqual(2);
    expect(dones).toBe(1);
    expect(unhandled.length).toBe(0);
  });

  it("lets the stages after it finish the elements it emitted", async () => {
    let dones = 0;
    const out = await pipe(new CountingSource())
      .take(3)
      .map(async (x) => {
        await sleep(5);
        return x + 100;
      }, { workers: 3, onDone: () => void dones++ });
    expect(sorted(out)).toEqual([100, 101, 102]);
    expect(dones).toBe(1);
  });

  it("ends a for await loop normally", async () => {
    const src = new CountingSource();
    const seen: number[] = [];
    for await (const x of pipe(src).map((x) => x, { maxsize: 1 }).take(4)) seen.push(x);
    expect(seen).toEqual([0, 1, 2, 3]);
    expect(src.finallyRan).toBe(1);
  });

  it("releases the acknowledged elements it did not deliver, and settles the delivered ones done", async () => {
    for (const consume of [(p: Pipeline<number>) => p.toArray(), async (p: Pipeline<number>) => {
      const seen: number[] = [];
      for await (const x of p) seen.push(x);
      return seen;
    }]) {
      const calls: { element: number; outcome: SourceOutcome }[] = [];
      const settle = (element: number, outcome: SourceOutcome): void => void calls.push({ element, outcome });
      const out = await consume(
        pipe(source(() => range(1_000), { settle }))
          .map(async (x) => x, { workers: 3, maxsize: 2 })
          .take(4),
      );
      expect(out).toHaveLength(4);
      const byElement = new Map(calls.map((c) => [c.element, c.outcome.status]));
      // Each element taken settles exactly once.
      expect(byElement.size).toBe(calls.length);
      for (const x of out) expect(byElement.get(x)).toBe("done");
      const released = calls.filter((c) => c.outcome.status === "released");
      expect(released.length + out.length).toBe(calls.length);
      expect(released.length).toBeGreaterThan(0);
    }
  });

  it("reports the run as done in its final stats", async () => {
    const states: RunStats["state"][] = [];
    await pipe(new CountingSource())
      .map((x) => x)
      .take(2)
      .run({ onProgress: (stats) => void states.push(stats.state) });
    expect(states.at(-1)).toBe("done");
  });

  it("before ordered(): ordered() emits what take let through, in source order", async () => {
    const out = await pipe(() => range(50))
      .map(async (x) => {
        await sleep((x * 7) % 5);
        return x;
      }, { workers: 4 })
      .take(6)
      .ordered();
    expect(out).toHaveLength(6);
    expect(out).toEqual(sorted(out));
  });

  it("on a branch of a shared pipeline, stops taking without holding the other branch back", async () => {
    const { concat } = await import("@sluice/dsl");
    const shared = pipe(() => range(100));
    const out = await concat(shared.take(2), shared);
    expect(out).toHaveLength(102);
    const statuses = new Map<number, string>();
    const settled = pipe(source(() => range(30), { settle: (x, outcome) => void statuses.set(x, outcome.status) }));
    const both = await concat(settled.take(3), settled.take(20));
    expect(sorted(both)).toEqual(sorted([0, 1, 2, ...range(20)]));
    // Each element delivered by a branch is done; each pulled past both takes is released.
    for (const x of range(20)) expect(statuses.get(x)).toBe("done");
    for (const [x, status] of statuses) if (x >= 20) expect(status).toBe("released");
  });

  it("below a shared pipeline with stages between, a satisfied take drops what still comes instead of stalling the other branch", async () => {
    const { concat } = await import("@sluice/dsl");
    const shared = pipe(() => range(100));
    let calls = 0;
    const mapped = shared.map(async (x) => (calls++, x * 10), { workers: 2, maxsize: 1 });
    const out = await concat(mapped.filter(() => true).take(2), shared);
    expect(out).toHaveLength(102);
    // Every element of the other branch, and two of the mapped ones (multiples of 10).
    const rest = [...out];
    for (const x of range(100)) rest.splice(rest.indexOf(x), 1);
    expect(rest).toHaveLength(2);
    for (const x of rest) expect(x % 10).toBe(0);
    // The map runs on for the other branch's pace: its outputs past the take are dropped.
    expect(calls).toBeGreaterThan(2);
  });

  it("stops one input of a concat while the other goes on", async () => {
    const { concat } = await import("@sluice/dsl");
    const out = await concat(pipe(new CountingSource()).take(2), pipe([10, 11, 12]));
    expect(sorted(out)).toEqual([0, 1, 10, 11, 12]);
  });
});

describe("takeWhile(pred)", () => {
  it("emits elements until the first that fails the test, which is not emitted, and stops there", async () => {
    const src = new CountingSource();
    const counters: number[] = [];
    const out = await pipe(src).takeWhile((x, counter) => {
      counters.push(counter);
      return x < 3;
    });
    expect(out).toEqual([0, 1, 2]);
    expect(counters).toEqual([0, 1, 2, 3]);
    expect(src.finallyRan).toBe(1);
  });

  it("fails the run with a predicate's own error, and with a TypeError for a promise", async () => {
    const boom = new Error("boom");
    await expect(
      pipe([1, 2]).takeWhile(() => {
        throw boom;
      }),
    ).rejects.toBe(boom);
    await expect(pipe([1, 2]).takeWhile(() => Promise.resolve(true) as unknown as boolean)).rejects.toThrow(
      /takeWhile\(\): pred must not return a promise/,
    );
  });
});

describe("drop(n)", () => {
  it("leaves out the first n elements", async () => {
    expect(await pipe(() => range(5)).drop(2)).toEqual([2, 3, 4]);
    expect(await pipe([1, 2]).drop(5)).toEqual([]);
    expect(await pipe([1, 2]).drop(0)).toEqual([1, 2]);
  });

  it("before ordered(): the dropped positions do not hold ordered() up", async () => {
    const out = await pipe(() => range(20))
      .map(async (x) => {
        await sleep(x % 3);
        return x;
      }, { workers: 3 })
      .drop(5)
      .ordered();
    expect(out).toHaveLength(15);
    expect(out).toEqual(sorted(out));
  });

  it("settles the elements it leaves out done", async () => {
    const statuses: string[] = [];
    await pipe(source([1, 2, 3], { settle: (_, outcome) => void statuses.push(outcome.status) })).drop(2);
    expect(statuses).toEqual(["done", "done", "done"]);
  });
});

describe("terminals", () => {
  it("reduce folds with or without an initial value; empty without one is a TypeError", async () => {
    expect(await pipe([1, 2, 3]).reduce((sum, x) => sum + x, 10)).toBe(16);
    expect(await pipe([1, 2, 3]).reduce((sum, x) => sum + x)).toBe(6);
    expect(await pipe(["a", "b"]).reduce(async (acc, x) => acc + x, "")).toBe("ab");
    expect(await pipe([] as number[]).reduce((sum, x) => sum + x, 7)).toBe(7);
    await expect(pipe([] as number[]).reduce((sum, x) => sum + x)).rejects.toThrow(TypeError);
    const boom = new Error("boom");
    await expect(
      pipe([1]).reduce(() => {
        throw boom;
      }, 0),
    ).rejects.toBe(boom);
  });

  it("find, some and every answer, with sync and async predicates", async () => {
    expect(await pipe([1, 2, 3, 4]).find((x) => x > 2)).toBe(3);
    expect(await pipe([1, 2]).find(async (x) => x > 5)).toBeUndefined();
    expect(await pipe([1, 2]).some((x) => x === 2)).toBe(true);
    expect(await pipe([1, 2]).some(async (x) => x === 3)).toBe(false);
    expect(await pipe([1, 2]).every((x) => x > 0)).toBe(true);
    expect(await pipe([1, 2]).every(async (x) => x < 2)).toBe(false);
    expect(await pipe([]).every(() => false)).toBe(true);
    expect(await pipe([]).some(() => true)).toBe(false);
  });

  const earlyStops: [string, (p: Pipeline<number>) => Promise<unknown>, unknown][] = [
    ["take", (p) => p.take(5).toArray(), [0, 1, 2, 3, 4]],
    ["takeWhile", (p) => p.takeWhile((x) => x < 5).toArray(), [0, 1, 2, 3, 4]],
    ["find", (p) => p.find((x) => x === 5), 5],
    ["some", (p) => p.some((x) => x === 5), true],
    ["every", (p) => p.every((x) => x < 5), false],
  ];
  for (const [name, consume, expected] of earlyStops) {
    it(`${name} works on a lazy infinite source, pulling within §4's bound, and closes it`, async () => {
      const src = new CountingSource();
      let dones = 0;
      const answer = await consume(pipe(src).map((x) => x, { maxsize: 1, onDone: () => void dones++ }));
      expect(answer).toEqual(expected);
      // One map (workers 1, maxsize 1) plus, for the terminals, their filter stage (default maxsize 16).
      expect(src.pulls).toBeLessThanOrEqual(6 + 2 * (1 + 16) + 16 + 2);
      expect(src.finallyRan).toBe(1);
      expect(dones).toBe(1);
    });
  }

  it("find stops the run, aborting the calls in flight upstream", async () => {
    const aborts = { count: 0 };
    let started = 0;
    const found = await pipe(new CountingSource())
      .map(
        (x, ctx) => {
          started++;
          return x === 1 ? sleep(5).then(() => x) : untilAborted(ctx.signal, aborts);
        },
        { workers: 3, maxsize: 1 },
      )
      .find((x) => x === 1);
    expect(found).toBe(1);
    expect(aborts.count).toBe(started - 1);
    expect(aborts.count).toBeGreaterThanOrEqual(2);
  });

  it("a caller's signal aborts a terminal", async () => {
    const controller = new AbortController();
    const reason = new Error("stop");
    const pending = pipe(new CountingSource())
      .map(async (x) => {
        await sleep(1);
        return x;
      })
      .some((x) => x < 0, { signal: controller.signal });
    await sleep(5);
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });
});

describe("tap(f, options)", () => {
  it("passes every element on unchanged, after f (and its promise) finished", async () => {
    const seen: number[] = [];
    const gate = deferred();
    const run = pipe([1, 2, 3])
      .tap(async (x) => {
        await gate.promise;
        seen.push(x);
      }, { workers: 3 })
      .toArray();
    await sleep(5);
    expect(seen).toEqual([]);
    gate.resolve();
    const out = await run;
    expect(sorted(out)).toEqual([1, 2, 3]);
    expect(sorted(seen)).toEqual([1, 2, 3]);
  });

  it("takes the stage options: workers bound its calls, a name shows in the stats, errors fail the run", async () => {
    const probe = new ConcurrencyProbe();
    let stats: RunStats | undefined;
    const out = await pipe(() => range(20))
      .tap(probe.wrap(() => sleep(2)), { workers: 3, name: "audit" })
      .toArray({ onProgress: (s) => void (stats = s) });
    expect(sorted(out)).toEqual([...range(20)]);
    expect(probe.max).toBeLessThanOrEqual(3);
    expect(probe.max).toBeGreaterThan(1);
    expect(stats!.stages[0]!.name).toBe("audit");
    const boom = new Error("boom");
    await expect(
      pipe([1]).tap(() => {
        throw boom;
      }),
    ).rejects.toBe(boom);
  });
});

describe("scan(f, initial)", () => {
  it("emits each accumulator, one call at a time, and each run starts from initial", async () => {
    let inFlight = 0;
    let most = 0;
    const sums = pipe(() => range(5)).scan(async (sum, x) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await sleep(1);
      inFlight--;
      return sum + x;
    }, 0);
    expect(await sums).toEqual([0, 1, 3, 6, 10]);
    expect(most).toBe(1);
    // Two runs at once, each with its own accumulator.
    const [a, b] = await Promise.all([sums.toArray(), sums.toArray()]);
    expect(a).toEqual([0, 1, 3, 6, 10]);
    expect(b).toEqual([0, 1, 3, 6, 10]);
  });
});

describe("fallback", () => {
  it("emits the fallback's value in place of an element that failed after its retries", async () => {
    const attempts = new Map<number, number>();
    const failures: ElementError<number>[] = [];
    const out = await pipe([1, 2, 3, 4]).map(
      (x) => {
        attempts.set(x, (attempts.get(x) ?? 0) + 1);
        if (x % 2 === 0) throw new Error(`bad ${x}`);
        return x * 10;
      },
      {
        retry: { retries: 2, minDelay: 0, jitter: "none" },
        fallback: (failure) => {
          failures.push(failure);
          return -failure.value;
        },
      },
    );
    expect(sorted(out)).toEqual([-4, -2, 10, 30]);
    expect(attempts.get(2)).toBe(3);
    expect(failures.map((f) => f.attempts)).toEqual([3, 3]);
    expect(failures.every((f) => f instanceof ElementError)).toBe(true);
  });

  it("awaits an async fallback, counts recovered elements, and settles them done", async () => {
    let stats: RunStats | undefined;
    const statuses = new Map<number, string>();
    const out = await pipe(source([1, 2, 3], { settle: (x, outcome) => void statuses.set(x, outcome.status) }))
      .map(
        async (x) => {
          if (x === 2) throw new Error("no");
          return String(x);
        },
        { fallback: async () => "none" },
      )
      .toArray({ onProgress: (s) => void (stats = s) });
    expect(out.sort()).toEqual(["1", "3", "none"]);
    expect(stats!.stages[0]!.recovered).toBe(1);
    expect(stats!.stages[0]!.done).toBe(3);
    expect(stats!.stages[0]!.skipped).toBe(0);
    expect([...statuses.values()]).toEqual(["done", "done", "done"]);
  });

  it("a throwing or rejecting fallback fails the run with its error", async () => {
    const boom = new Error("fallback failed");
    const failing = (x: number): number => {
      throw new Error(`f ${x}`);
    };
    await expect(
      pipe([1]).map(failing, {
        fallback: () => {
          throw boom;
        },
      }),
    ).rejects.toBe(boom);
    await expect(pipe([1]).map(failing, { fallback: () => Promise.reject(boom) })).rejects.toBe(boom);
  });

  it("replaces a failed tap element too", async () => {
    const out = await pipe([1, 2]).tap(
      (x) => {
        if (x === 2) throw new Error("no");
      },
      { fallback: () => "replaced" },
    );
    expect(out.sort()).toEqual([1, "replaced"].sort());
  });
});

describe("bad input", () => {
  const invalid = (call: () => unknown, message: RegExp): void => {
    let error: unknown;
    try {
      call();
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(OptionsError);
    expect((error as Error).message).toMatch(message);
  };

  it("names the method and the argument for a bad count or a non-function", () => {
    const p = pipe([1]);
    const untyped = p as unknown as Record<string, (...args: unknown[]) => unknown>;
    invalid(() => p.take(-1), /^take\(\): n must be an integer >= 0 \(received -1\)/);
    invalid(() => p.take(1.5), /^take\(\): n must be an integer >= 0/);
    invalid(() => untyped.take!("3"), /^take\(\): n must be an integer >= 0/);
    invalid(() => p.drop(-2), /^drop\(\): n must be an integer >= 0/);
    invalid(() => untyped.takeWhile!(3), /^takeWhile\(\): pred must be a function/);
    invalid(() => untyped.scan!(null, 0), /^scan\(\): f must be a function/);
    invalid(() => untyped.tap!("x"), /^tap\(\): f must be a function/);
    invalid(() => take(-1), /^take\(\)/);
    invalid(() => drop(0.5), /^drop\(\)/);
    invalid(() => takeWhile(1 as never), /^takeWhile\(\)/);
    invalid(() => scan(1 as never, 0), /^scan\(\)/);
    invalid(() => tap(1 as never), /^tap\(\)/);
  });

  it("terminals reject with the OptionsError", async () => {
    const untyped = pipe([1]) as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    await expect(untyped.find!("x")).rejects.toThrow(/^find\(\): pred must be a function/);
    await expect(untyped.some!(undefined)).rejects.toBeInstanceOf(OptionsError);
    await expect(untyped.every!(1)).rejects.toThrow(/^every\(\): pred must be a function/);
    await expect(untyped.reduce!(null, 0)).rejects.toThrow(/^reduce\(\): f must be a function/);
  });

  it("fallback: only on map and tap, never with onError, and a function", () => {
    const untyped = pipe([1]) as unknown as Record<string, (...args: unknown[]) => unknown>;
    invalid(() => untyped.filter!(() => true, { fallback: () => 1 }), /^filter\(\): options\.fallback is not an option: only map\(\) and tap\(\) take one/);
    invalid(() => untyped.each!(() => true, { fallback: () => 1 }), /^each\(\): options\.fallback is not an option/);
    invalid(() => untyped.flatMap!(() => [], { fallback: () => 1 }), /^flatMap\(\): options\.fallback/);
    invalid(() => untyped.map!((x: number) => x, { fallback: () => 1, onError: "skip" }), /^map\(\): options\.onError must be absent when options\.fallback is given/);
    invalid(() => untyped.map!((x: number) => x, { fallback: 1 }), /^map\(\): options\.fallback must be a function/);
  });
});

describe("operator functions", () => {
  it("take, takeWhile, drop, tap and scan work in pipe() and through()", async () => {
    const seen: number[] = [];
    const out = await pipe(
      new CountingSource(),
      drop(1),
      takeWhile((x: number) => x < 6),
      tap((x: number) => void seen.push(x)),
      scan((sum: number, x: number) => sum + x, 0),
      take(3),
    );
    expect(out).toEqual([1, 3, 6]);
    expect(seen.slice(0, 3)).toEqual([1, 2, 3]);
    expect(await pipe([1, 2, 3]).through(map((x: number) => x * 2), take(2))).toEqual([2, 4]);
  });

  it("a run that a take stopped leaves nothing running", async () => {
    const src = new CountingSource();
    await pipe(src).map(async (x) => x, { workers: 2 }).take(1);
    await until(() => src.finallyRan === 1, "source closed");
    expect(unhandled.length).toBe(0);
  });
});

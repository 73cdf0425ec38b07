import { describe, expect, it } from "vitest";
import { pipe } from "@sluice/dsl";
import { ConcurrencyProbe, sorted } from "./helpers/probes.js";
import { deferred, range, sleep, tick, until, type Deferred } from "./helpers/time.js";

describe("workers", () => {
  it.each([1, 2, 4, 7])("workers: %i runs exactly that many calls at once, never more", async (workers) => {
    const probe = new ConcurrencyProbe();
    const result = await pipe(() => range(30)).map(
      probe.wrap(async (x: number) => {
        await sleep(2);
        return x;
      }),
      { workers },
    );
    expect(sorted(result)).toEqual([...range(30)]);
    expect(probe.max).toBe(workers);
    expect(probe.started).toBe(30);
  });

  it("the next call starts only when one of the workers calls settles", async () => {
    const gates: Deferred<void>[] = [...range(10)].map(() => deferred());
    const started: number[] = [];
    const run = pipe(() => range(10)).map(
      async (x) => {
        started.push(x);
        await gates[x]!.promise;
        return x;
      },
      { workers: 3 },
    ).toArray();

    await until(() => started.length === 3, "three calls to start");
    await sleep(5);
    expect(started).toEqual([0, 1, 2]);

    gates[1]!.resolve();
    await until(() => started.length === 4, "a fourth call to start");
    await sleep(5);
    expect(started).toEqual([0, 1, 2, 3]);

    for (const gate of gates) gate.resolve();
    expect(sorted(await run)).toEqual([...range(10)]);
  });

  it("each stage has its own workers limit", async () => {
    const mapProbe = new ConcurrencyProbe();
    const filterProbe = new ConcurrencyProbe();
    const eachProbe = new ConcurrencyProbe();
    await pipe(() => range(40))
      .map(mapProbe.wrap(async (x: number) => (await sleep(1), x)), { workers: 5 })
      .filter(filterProbe.wrap(async () => (await sleep(1), true)), { workers: 2 })
      .each(eachProbe.wrap(async () => sleep(4)), { workers: 3 })
      .run();
    expect([mapProbe.max, filterProbe.max, eachProbe.max]).toEqual([5, 2, 3]);
    expect([mapProbe.started, filterProbe.started, eachProbe.started]).toEqual([40, 40, 40]);
  });

  it("flatMap counts an expansion in progress as one of its workers", async () => {
    let active = 0;
    let maxActive = 0;
    const result = await pipe(() => range(12)).flatMap(
      async function* (x) {
        active++;
        maxActive = Math.max(maxActive, active);
        try {
          await sleep(1);
          yield x;
          await sleep(1);
          yield -x;
        } finally {
          active--;
        }
      },
      { workers: 3 },
    );
    expect(result).toHaveLength(24);
    expect(maxActive).toBe(3);
  });

  it("the default is one worker", async () => {
    const probe = new ConcurrencyProbe();
    await pipe(() => range(10)).map(probe.wrap(async (x: number) => (await sleep(1), x)));
    expect(probe.max).toBe(1);
  });
});

describe("order of emission", () => {
  it("with workers: 1 in every stage the source order is kept", async () => {
    const delay = (x: number) => sleep((x * 7) % 3);
    const result = await pipe(() => range(30))
      .map(async (x) => (await delay(x), x * 2))
      .filter(async (x) => (await delay(x), x % 3 !== 0))
      .flatMap(async function* (x) {
        await delay(x);
        yield x;
        yield x + 1;
      })
      .map((x) => x);
    const expected = [...range(30)]
      .map((x) => x * 2)
      .filter((x) => x % 3 !== 0)
      .flatMap((x) => [x, x + 1]);
    expect(result).toEqual(expected);
  });

  it("with several workers elements leave in completion order", async () => {
    const gates = [deferred(), deferred(), deferred()];
    const seen: number[] = [];
    const consumed = (async () => {
      for await (const x of pipe([0, 1, 2]).map(
        async (x) => {
          await gates[x]!.promise;
          return x;
        },
        { workers: 3 },
      )) {
        seen.push(x);
      }
    })();
    await tick();
    gates[2]!.resolve();
    await until(() => seen.length === 1, "the first completion");
    gates[0]!.resolve();
    await until(() => seen.length === 2, "the second completion");
    gates[1]!.resolve();
    await consumed;
    expect(seen).toEqual([2, 0, 1]);
  });
});

describe("stage functions", () => {
  it("f may be synchronous in every stage", async () => {
    const result = await pipe([1, 2, 3, 4])
      .map((x) => x * 10)
      .filter((x) => x > 10)
      .flatMap((x) => [x, x + 1])
      .ordered();
    expect(result).toEqual([20, 21, 30, 31, 40, 41]);
  });

  it("f receives each element once, with a ctx", async () => {
    const calls: Array<[number, unknown]> = [];
    await pipe([5, 6]).each((x, ctx) => {
      calls.push([x, typeof ctx]);
    });
    expect(calls).toEqual([
      [5, "object"],
      [6, "object"],
    ]);
  });

  it("filter keeps elements whose f result is truthy, sync or async", async () => {
    const values = [0, 1, 2, 3, 4, 5];
    const truthy = [0, "x", "", null, 1, undefined];
    const keep = await pipe(values).filter((x) => truthy[x]);
    const keepAsync = await pipe(values).filter(async (x) => truthy[x]);
    expect(keep).toEqual([1, 4]);
    expect(keepAsync).toEqual([1, 4]);
  });

  it("flatMap accepts arrays, Sets, generators, async generators and promises of iterables", async () => {
    const kinds = [
      () => [1, 2],
      () => new Set([1, 2]),
      function* () {
        yield 1;
        yield 2;
      },
      async function* () {
        yield 1;
        await sleep(1);
        yield 2;
      },
      async () => [1, 2],
      () => Promise.resolve(new Set([1, 2])),
    ];
    for (const kind of kinds) {
      expect(await pipe(["x"]).flatMap(kind as () => Iterable<number>)).toEqual([1, 2]);
    }
  });

  it("flatMap streams an async generator's items downstream before it finishes", async () => {
    const gate = deferred();
    let finished = false;
    const seen: string[] = [];
    const p = pipe(["only"]).flatMap(async function* (x) {
      yield `${x}-first`;
      await gate.promise;
      yield `${x}-second`;
      finished = true;
    });
    for await (const item of p) {
      seen.push(item);
      if (seen.length === 1) {
        expect(finished).toBe(false);
        gate.resolve();
      }
    }
    expect(seen).toEqual(["only-first", "only-second"]);
    expect(finished).toBe(true);
  });

  it("flatMap with empty expansions emits nothing for them", async () => {
    expect(await pipe([1, 2, 3]).flatMap((x) => (x === 2 ? [x] : []))).toEqual([2]);
  });

  it("a map may return undefined and null as ordinary elements", async () => {
    expect(await pipe([1, 2]).map((x) => (x === 1 ? undefined : null))).toEqual([undefined, null]);
  });

  it("a map result that is a promise of a promise is awaited to its value", async () => {
    const result = await pipe([1]).map(async (x) => Promise.resolve(x + 1));
    expect(result).toEqual([2]);
  });
});

describe("fairness", () => {
  it("a fully synchronous pipeline yields to the event loop, so timers run before a long run ends", async () => {
    let timerFiredAt = -1;
    let processed = 0;
    setTimeout(() => {
      timerFiredAt = processed;
    }, 0);
    await pipe(() => range(50_000))
      .map((x) => x + 1)
      .filter(() => true)
      .each(() => {
        processed++;
      })
      .run();
    expect(processed).toBe(50_000);
    expect(timerFiredAt).toBeGreaterThanOrEqual(0);
    expect(timerFiredAt).toBeLessThan(50_000);
  });

  it("two synchronous runs started together interleave instead of running one after the other", async () => {
    const order: string[] = [];
    const run = (label: string) =>
      pipe(() => range(20_000))
        .each((x) => {
          if (x % 5_000 === 0) order.push(label);
        })
        .run();
    await Promise.all([run("a"), run("b")]);
    expect(order).toHaveLength(8);
    const firstB = order.indexOf("b");
    const lastA = order.lastIndexOf("a");
    expect(firstB).toBeLessThan(lastA);
  });
});

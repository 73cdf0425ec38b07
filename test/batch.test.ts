/**
 * batch() and flat() (docs/behaviour.md §3): arrays of up to `size`, emitted when full or
 * `maxWait` ms after their first element, never empty, the last partial one at the end,
 * bounded memory, fresh index paths; flat() un-batches.
 */
import fc from "fast-check";
import { describe, expect, expectTypeOf, it } from "vitest";
import { OptionsError, batch, each, flat, map, pipe, type Pipeline } from "@sluice/dsl";
import { CountingSource } from "./helpers/probes.js";
import { range, sleep } from "./helpers/time.js";
import { trackTimers } from "./helpers/timers.js";
import { recordUnhandledRejections } from "./helpers/unhandled.js";

const unhandled = recordUnhandledRejections();
const timers = trackTimers();

describe("batch()", () => {
  it("groups elements into arrays of size, the last one partial", async () => {
    expect(await pipe(() => range(10)).batch(3)).toEqual([[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]);
    expect(await pipe(() => range(6)).batch(3)).toEqual([[0, 1, 2], [3, 4, 5]]);
  });

  it("never emits an empty batch", async () => {
    expect(await pipe([]).batch(3)).toEqual([]);
    expect(await pipe([1, 2, 3, 4]).filter(() => false).batch(2, { maxWait: 1 })).toEqual([]);
  });

  it("emits a partial batch maxWait ms after its first element", async () => {
    async function* trickle(): AsyncGenerator<number> {
      yield 1;
      yield 2;
      await sleep(60);
      yield 3;
    }
    const seen: { batch: number[]; at: number }[] = [];
    const start = Date.now();
    for await (const b of pipe(trickle).batch(10, { maxWait: 10 })) seen.push({ batch: b, at: Date.now() - start });
    expect(seen.map((s) => s.batch)).toEqual([[1, 2], [3]]);
    // The first batch left long before the third element came (wide margin: a shared machine).
    expect(seen[0]!.at).toBeLessThan(55);
  });

  it("gives batch k the index path [k], so ordered() after concurrent work restores batch order", async () => {
    const indexes: number[][] = [];
    const result = await pipe(() => range(20))
      .batch(5)
      .map(
        async (b, ctx) => {
          indexes.push([...ctx.index]);
          await sleep((4 - ctx.index[0]!) * 3);
          return b[0];
        },
        { workers: 4 },
      )
      .ordered();
    expect(result).toEqual([0, 5, 10, 15]);
    expect(indexes.sort((a, b) => a[0]! - b[0]!)).toEqual([[0], [1], [2], [3]]);
  });

  it("holds at most size elements plus one batch downstream has not taken (backpressure)", async () => {
    const source = new CountingSource();
    const it = pipe(source).batch(4).iterate();
    expect((await it.next()).value).toEqual([0, 1, 2, 3]);
    await sleep(10);
    // Taken 4; then at most: one batch in the consumer's buffer, one held, one being filled, and one pull in flight.
    expect(source.pulls).toBeLessThanOrEqual(4 + 4 + 4 + 4 + 1);
    await it.return!();
    expect(source.finallyRan).toBe(1);
  });

  it("a break while a partial batch waits for maxWait leaves no timer behind", async () => {
    const before = timers();
    async function* slow(): AsyncGenerator<number> {
      for (let i = 0; ; i++) {
        yield i;
        if (i % 3 === 2) await sleep(5);
      }
    }
    for await (const b of pipe(slow).batch(100, { maxWait: 10_000 })) {
      void b;
      break;
    }
    expect(timers()).toBeLessThanOrEqual(before);
  });

  it("an abort while a batch is being filled settles the run at once with the reason, and closes the source", async () => {
    const source = new CountingSource();
    const controller = new AbortController();
    const reason = new Error("stop");
    let done = 0;
    const run = pipe(source)
      .map(async (x) => (await sleep(1), x), { workers: 2 })
      .batch(1_000, { maxWait: 60_000 })
      .each(() => undefined, { onDone: () => void done++ })
      .run({ signal: controller.signal });
    await sleep(10);
    controller.abort(reason);
    await expect(run).rejects.toBe(reason);
    expect(done).toBe(1);
    expect(source.finallyRan).toBe(1);
  });

  it("a last batch that fails downstream at once still lets every onDone finish before the run settles", async () => {
    // The end of the input emits the last batch; a synchronous throw downstream tears the run
    // down inside that emission, which must not finish the batch stage a second time.
    let finished = false;
    const boom = new Error("boom");
    const run = pipe([0])
      .batch(2)
      .map((b) => b, { onDone: () => sleep(20).then(() => void (finished = true)) })
      .map(() => {
        throw boom;
      });
    await expect(run).rejects.toBe(boom);
    expect(finished).toBe(true);
  });

  it("validates size and options when the pipeline is built", () => {
    expect(() => pipe([1]).batch(0)).toThrow(OptionsError);
    expect(() => pipe([1]).batch(0)).toThrow("batch(): size must be an integer >= 1 (received 0)");
    expect(() => pipe([1]).batch(2.5)).toThrow("batch(): size must be an integer >= 1 (received 2.5)");
    expect(() => pipe([1]).batch(2, { maxWait: -1 })).toThrow("batch(): options.maxWait must be a number of milliseconds > 0 (at most 2147483647) (received -1)");
    expect(() => pipe([1]).batch(2, { wait: 5 } as never)).toThrow("batch(): options.wait is not an option (options are: maxWait)");
    expect(() => batch(0)).toThrow(OptionsError);
  });

  it("is an operator too, typed", async () => {
    const sizes = await pipe(() => range(7), batch<number>(3), map((b: number[]) => b.length));
    expect(sizes.sort()).toEqual([1, 3, 3]);
    let total = 0;
    await pipe(() => range(7), batch<number>(2), each((b: number[]) => void (total += b.length))).run();
    expect(total).toBe(7);
  });

  it("every element lands in exactly one batch, in order, and every batch but the last is full (property)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer(), { maxLength: 60 }), fc.integer({ min: 1, max: 8 }), async (xs, size) => {
        const batches = await pipe(xs).batch(size);
        expect(batches.flat()).toEqual(xs);
        batches.forEach((b, i) => {
          expect(b.length).toBeGreaterThan(0);
          if (i < batches.length - 1) expect(b.length).toBe(size);
          else expect(b.length).toBeLessThanOrEqual(size);
        });
        expect(await pipe(xs).batch(size).flat()).toEqual(xs);
      }),
      { numRuns: 100 },
    );
  });
});

describe("flat()", () => {
  it("emits each item of each array, with index paths [k, i]", async () => {
    const paths: number[][] = [];
    const result = await pipe([[1, 2], [], [3]])
      .flat()
      .map((x, ctx) => (paths.push([...ctx.index]), x))
      .ordered();
    expect(result).toEqual([1, 2, 3]);
    expect(paths.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!)).toEqual([
      [0, 0],
      [0, 1],
      [2, 0],
    ]);
  });

  it("is typed as the inverse of batch()", () => {
    expectTypeOf(pipe([1, 2]).batch(2)).toEqualTypeOf<Pipeline<number[]>>();
    expectTypeOf(pipe([1, 2]).batch(2).flat()).toEqualTypeOf<Pipeline<number>>();
    expectTypeOf(pipe([["a"]], flat<string>())).toEqualTypeOf<Pipeline<string>>();
  });
});

it("leaks no unhandled rejection", () => {
  expect(unhandled).toEqual([]);
});

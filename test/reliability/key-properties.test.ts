/**
 * Per-key order as properties (docs/behaviour.md §13): for random keys (a few, with
 * `null`s), delays, `workers` and `maxsize`, with retries and timeouts in the mix, calls of
 * one key never overlap and start in arrival order (every attempt of an element before the
 * next element of its key), calls in flight never exceed `workers`, the source is never
 * pulled beyond the bound of docs/behaviour.md §4, and every element is delivered once.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pipe } from "@sluice/dsl";
import { UnhandledRejections, macrotask, sleep } from "./support.js";

const unhandled = new UnhandledRejections();
beforeAll(() => unhandled.install());
afterAll(() => unhandled.uninstall());

/** One element: its key, how its call waits, and how its first attempts go wrong. */
interface Spec {
  readonly key: number | null;
  /** -1: returns synchronously; 0: a resolved promise; n > 0: a timer of n ms. */
  readonly delay: number;
  /** Attempts that throw before one succeeds (each one retried). */
  readonly fails: number;
  /** Whether the first attempt hangs until its timeout aborts it (then it is retried). */
  readonly hangs: boolean;
}

const specArb: fc.Arbitrary<Spec> = fc.record({
  key: fc.option(fc.integer({ min: 0, max: 3 }), { freq: 4 }),
  delay: fc.integer({ min: -1, max: 3 }),
  fails: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 2 }) }),
  hangs: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
});

const TIMEOUT = 40;

describe("per-key order, as properties", () => {
  it("same-key calls never overlap and start in arrival order, in flight <= workers, pulls within the bound, each element delivered once", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(specArb, { maxLength: 30 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 6 }),
        fc.constantFrom("plain", "retries", "retries+timeouts"),
        fc.array(fc.integer({ min: 1, max: 30 }), { maxLength: 3 }),
        async (specs, workers, maxsize, mix, stallAt) => {
          const retrying = mix !== "plain";
          const timed = mix === "retries+timeouts";
          const violations: string[] = [];
          let pulls = 0;
          const source = {
            *[Symbol.iterator]() {
              for (let i = 0; i < specs.length; i++) {
                pulls++;
                yield i;
              }
            },
          };
          const running = new Map<number, number>(); // key -> element whose call runs
          const order = new Map<number, number[]>(); // key -> element of each attempt, in start order
          let inFlight = 0;
          const attempts = new Array<number>(specs.length).fill(0);

          const call = (i: number, signal: AbortSignal): number | Promise<number> => {
            const spec = specs[i]!;
            const attempt = ++attempts[i]!;
            if (spec.key !== null) {
              if (running.has(spec.key)) violations.push(`element ${i} started while ${running.get(spec.key)} of key ${spec.key} ran`);
              running.set(spec.key, i);
              order.set(spec.key, [...(order.get(spec.key) ?? []), i]);
            }
            inFlight++;
            if (inFlight > workers) violations.push(`${inFlight} calls in flight with workers ${workers}`);
            let ended = false;
            const end = (): void => {
              if (ended) return;
              ended = true;
              inFlight--;
              if (spec.key !== null) running.delete(spec.key);
            };
            const outcome = (): number => {
              end();
              if (retrying && attempt <= spec.fails) throw new Error(`attempt ${attempt} of ${i}`);
              return i;
            };
            // A call abandoned at its timeout ends then, from the stage's point of view (its key is free).
            if (timed) signal.addEventListener("abort", end);
            if (timed && spec.hangs && attempt === 1) return new Promise<number>(() => {});
            if (spec.delay < 0) return outcome();
            if (spec.delay === 0) return Promise.resolve().then(outcome);
            return sleep(spec.delay).then(outcome);
          };

          const pipeline = pipe(source).map((i, { signal }) => call(i, signal), {
            workers,
            maxsize,
            key: (i) => specs[i]!.key,
            ...(retrying ? { retry: { retries: 5, minDelay: 0, maxDelay: 2 } } : {}),
            ...(timed ? { timeout: TIMEOUT } : {}),
          });
          // One stage: Σ(workers + maxsize) + maxsize_last + stages.
          const bound = workers + maxsize + maxsize + 1;
          const delivered: number[] = [];
          for await (const i of pipeline) {
            delivered.push(i);
            if (pulls > delivered.length + bound) violations.push(`${pulls} pulls after ${delivered.length} taken (bound ${bound})`);
            if (stallAt.includes(delivered.length)) {
              await macrotask();
              await sleep(2);
              if (pulls > delivered.length + bound) violations.push(`${pulls} pulls after a stall at ${delivered.length} (bound ${bound})`);
            }
          }
          expect(violations).toEqual([]);
          expect([...delivered].sort((a, b) => a - b)).toEqual(specs.map((_, i) => i));
          for (const [key, elements] of order) {
            // Arrival order is source order; every attempt of an element comes before the next element of its key.
            for (let j = 1; j < elements.length; j++) {
              if (elements[j]! < elements[j - 1]!) violations.push(`key ${key}: ${elements.join(", ")}`);
            }
            const expected = specs.flatMap((s, i) => (s.key === key ? [i] : []));
            expect([...new Set(elements)]).toEqual(expected);
          }
          expect(violations).toEqual([]);
          expect(inFlight).toBe(0);
        },
      ),
      { numRuns: 100 },
    );
    expect(unhandled.count).toBe(0);
  });
});

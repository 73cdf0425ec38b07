/**
 * Properties of the TC39 operators (docs/behaviour.md §17): `take(n)` emits exactly
 * `min(n, count)` elements, each at most once and in source order when the chain keeps it,
 * and every element of an acknowledged source settles exactly once; a `fallback` emits every
 * element exactly once, the failed ones replaced, and counts the replacements.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pipe, source, type RunStats, type SourceOutcome } from "@sluice/dsl";
import { UnhandledRejections, sleep, sorted } from "./support.js";

const unhandled = new UnhandledRejections();
beforeAll(() => unhandled.install());
afterAll(() => unhandled.uninstall());

const valuesArb = fc.uniqueArray(fc.integer({ min: 0, max: 10_000 }), { maxLength: 30 });
const delay = (x: number, mode: number): Promise<void> | undefined => (mode === 0 ? undefined : mode === 1 ? Promise.resolve() : sleep(x % 3));

describe("take(n)", () => {
  it("emits exactly min(n, count) elements of the source, in order when ordered, each source element settled once", async () => {
    await fc.assert(
      fc.asyncProperty(
        valuesArb,
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 1, max: 4 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 2 }),
        async (values, n, workers, ordered, mode) => {
          const outcomes: { element: number; outcome: SourceOutcome }[] = [];
          let pipeline = pipe(source(values, { settle: (element, outcome) => void outcomes.push({ element, outcome }) })).map(
            async (x) => {
              await delay(x, mode);
              return x;
            },
            { workers },
          );
          if (ordered) pipeline = pipeline.ordered();
          const out = await pipeline.take(n);
          expect(out).toHaveLength(Math.min(n, values.length));
          if (ordered || workers === 1) expect(out).toEqual(values.slice(0, out.length));
          else expect(new Set(out).size).toBe(out.length);
          for (const x of out) expect(values).toContain(x);
          // Every element pulled settled exactly once: done if delivered, else released.
          const settledElements = outcomes.map((o) => o.element);
          expect(new Set(settledElements).size).toBe(settledElements.length);
          for (const x of out) expect(outcomes.find((o) => o.element === x)?.outcome.status).toBe("done");
          for (const o of outcomes) if (!out.includes(o.element)) expect(o.outcome.status).toBe("released");
        },
      ),
      { numRuns: 60 },
    );
    expect(unhandled.count).toBe(0);
  });
});

describe("fallback", () => {
  it("emits every element exactly once, each failure replaced by its fallback value, and counts them recovered", async () => {
    await fc.assert(
      fc.asyncProperty(
        valuesArb,
        fc.integer({ min: 2, max: 5 }),
        fc.integer({ min: 1, max: 4 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 2 }),
        async (values, modulus, workers, asyncFallback, mode) => {
          const fails = (x: number): boolean => x % modulus === 0;
          let stats: RunStats | undefined;
          const out = await pipe(values)
            .map(
              async (x) => {
                await delay(x, mode);
                if (fails(x)) throw new Error(`bad ${x}`);
                return x;
              },
              { workers, fallback: (failure) => (asyncFallback ? Promise.resolve(-1 - failure.value) : -1 - failure.value) },
            )
            .toArray({ onProgress: (s) => void (stats = s) });
          const expected = values.map((x) => (fails(x) ? -1 - x : x));
          expect(sorted(out)).toEqual(sorted(expected));
          const failures = values.filter(fails).length;
          expect(stats!.stages[0]!.recovered).toBe(failures);
          expect(stats!.stages[0]!.done).toBe(values.length);
          expect(stats!.stages[0]!.emitted).toBe(values.length);
        },
      ),
      { numRuns: 60 },
    );
    expect(unhandled.count).toBe(0);
  });
});

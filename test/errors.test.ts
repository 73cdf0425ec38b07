import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { pipe, type Pipeline } from "@sluice/dsl";
import { range, sleep } from "./helpers/time.js";
import { recordUnhandledRejections } from "./helpers/unhandled.js";

const unhandled = recordUnhandledRejections();

/** The error a consumption form ends with, or a marker when it did not fail. */
const consumers: ReadonlyArray<readonly [string, (p: Pipeline<unknown>) => Promise<unknown>]> = [
  ["await", async (p) => await p],
  ["toArray()", (p) => p.toArray()],
  ["run()", (p) => p.run()],
  [
    "for await",
    async (p) => {
      for await (const _ of p) {
        // consume
      }
    },
  ],
  [
    "iterate()",
    async (p) => {
      const iterator = p.iterate();
      for (;;) if ((await iterator.next()).done) return;
    },
  ],
];

async function errorOf(consume: () => Promise<unknown>): Promise<unknown> {
  try {
    await consume();
  } catch (error) {
    return error;
  }
  throw new Error("expected the run to fail");
}

describe("error identity", () => {
  describe.each(consumers)("through %s", (_form, consume) => {
    it("a sync throw in map reaches the consumer as the same object", async () => {
      const boom = new Error("boom");
      const p = pipe(() => range(10)).map((x) => {
        if (x === 4) throw boom;
        return x;
      });
      expect(await errorOf(() => consume(p))).toBe(boom);
    });

    it("an async rejection in filter reaches the consumer as the same object", async () => {
      class MyError extends Error {}
      const boom = new MyError("async");
      const p = pipe(() => range(10)).filter(
        async (x) => {
          await sleep(1);
          if (x === 6) throw boom;
          return true;
        },
        { workers: 3 },
      );
      const error = await errorOf(() => consume(p));
      expect(error).toBe(boom);
      expect(error).toBeInstanceOf(MyError);
    });

    it("a throw inside a flatMap async generator reaches the consumer as the same object", async () => {
      const boom = new Error("expansion");
      const p = pipe([1, 2]).flatMap(async function* (x) {
        yield x;
        await sleep(1);
        if (x === 2) throw boom;
        yield -x;
      });
      expect(await errorOf(() => consume(p))).toBe(boom);
    });

    it("a throw in each reaches the consumer as the same object", async () => {
      const boom = new Error("each");
      const p = pipe([1, 2, 3]).each(async (x) => {
        if (x === 3) throw boom;
      });
      expect(await errorOf(() => consume(p))).toBe(boom);
    });

    it("a source iteration error reaches the consumer as the same object", async () => {
      const boom = new Error("source");
      function* source(): Generator<number> {
        yield 1;
        throw boom;
      }
      expect(await errorOf(() => consume(pipe(source).map((x) => x)))).toBe(boom);
    });
  });

  it("thrown non-Error values are passed through unchanged", async () => {
    const payload = { code: 42 };
    expect(await errorOf(() => pipe([1]).map(() => Promise.reject(payload)).toArray())).toBe(payload);
    expect(
      await errorOf(() =>
        pipe([1])
          .map(() => {
            throw "a string";
          })
          .toArray(),
      ),
    ).toBe("a string");
  });

  it("the user's error is not mutated: a frozen error still arrives, with its message", async () => {
    const frozen = Object.freeze(new RangeError("frozen"));
    const error = await errorOf(() =>
      pipe([1])
        .map(() => {
          throw frozen;
        })
        .toArray(),
    );
    expect(error).toBe(frozen);
    expect((error as Error).message).toBe("frozen");
    expect(Object.keys(frozen)).toEqual([]);
  });

  it("the first error wins and later errors are dropped", async () => {
    const first = new Error("first");
    const later = new Error("later");
    const p = pipe([0, 1, 2, 3]).map(
      async (x) => {
        if (x === 0) {
          await sleep(1);
          throw first;
        }
        await sleep(5);
        throw later;
      },
      { workers: 4 },
    );
    expect(await errorOf(() => p.toArray())).toBe(first);
    await sleep(10);
    expect(unhandled).toEqual([]);
  });

  it("elements delivered before the error reach a for await consumer, then the loop throws the error", async () => {
    const boom = new Error("late");
    const seen: number[] = [];
    const error = await errorOf(async () => {
      for await (const x of pipe([0, 1, 2, 3]).map((x) => {
        if (x === 3) throw boom;
        return x;
      })) {
        seen.push(x);
        await sleep(1);
      }
    });
    expect(error).toBe(boom);
    expect(seen.length).toBeLessThanOrEqual(3);
    expect(seen).toEqual([0, 1, 2].slice(0, seen.length));
  });

  it("a flatMap f that returns a non-iterable fails the run with a TypeError naming the stage", async () => {
    const error = await errorOf(() =>
      pipe([1])
        .flatMap(() => 5 as unknown as number[], { name: "explode" })
        .toArray(),
    );
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toContain("explode");
  });
});

describe("source errors", () => {
  it("a generator that throws mid-way fails the run with its error", async () => {
    const boom = new Error("gen");
    const p = pipe(function* () {
      yield 1;
      yield 2;
      throw boom;
    });
    expect(await errorOf(() => p.toArray())).toBe(boom);
  });

  it("an async generator that throws fails the run with its error", async () => {
    const boom = new Error("async gen");
    const p = pipe(async function* () {
      yield 1;
      await sleep(1);
      throw boom;
    });
    expect(await errorOf(() => p.toArray())).toBe(boom);
  });

  it("a rejected source promise fails the run with its reason", async () => {
    const boom = new Error("promise");
    const rejected = Promise.reject(boom);
    rejected.catch(() => undefined); // not consumed until the run starts
    expect(await errorOf(() => pipe(rejected as Promise<number[]>).toArray())).toBe(boom);
  });

  it("a source factory that throws fails the run (not the build) with its error", async () => {
    const boom = new Error("factory");
    const p = pipe((): number[] => {
      throw boom;
    });
    expect(await errorOf(() => p.toArray())).toBe(boom);
  });

  it("a factory whose promise rejects fails the run with its reason", async () => {
    const boom = new Error("async factory");
    const p = pipe(async (): Promise<number[]> => {
      await sleep(1);
      throw boom;
    });
    expect(await errorOf(() => p.toArray())).toBe(boom);
  });

  it("an async iterator whose next() rejects fails the run with its reason", async () => {
    const boom = new Error("next");
    const source: AsyncIterable<number> = {
      [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(boom) }),
    };
    expect(await errorOf(() => pipe(source).toArray())).toBe(boom);
  });

  it("an iterator whose next() throws synchronously fails the run with its error", async () => {
    const boom = new Error("sync next");
    const source: Iterable<number> = {
      [Symbol.iterator]: () => ({
        next: () => {
          throw boom;
        },
      }),
    };
    expect(await errorOf(() => pipe(source).toArray())).toBe(boom);
  });

  it("an erroring WHATWG ReadableStream fails the run with its error", async () => {
    const boom = new Error("stream");
    const stream = new ReadableStream<number>({
      pull(controller) {
        controller.error(boom);
      },
    });
    expect(await errorOf(() => pipe(stream).toArray())).toBe(boom);
  });

  it("a destroyed Node Readable fails the run with its error", async () => {
    const boom = new Error("readable");
    const readable = new Readable({
      objectMode: true,
      read() {
        this.destroy(boom);
      },
    });
    expect(await errorOf(() => pipe<unknown>(readable).toArray())).toBe(boom);
  });
});

describe("no unhandled rejections", () => {
  it("many failing calls in several stages leak no unhandled rejection", async () => {
    const p = pipe(() => range(50))
      .map(
        async (x) => {
          await sleep(x % 3);
          if (x % 2 === 0) throw new Error(`map ${x}`);
          return x;
        },
        { workers: 8 },
      )
      .filter(
        async (x) => {
          await sleep(1);
          throw new Error(`filter ${x}`);
        },
        { workers: 4 },
      );
    await expect(p.toArray()).rejects.toThrow(/^(map|filter) \d+$/);
    await sleep(20);
    expect(unhandled).toEqual([]);
  });

  it("a failing run that nobody iterates past the first element leaks nothing", async () => {
    const iterator = pipe([1, 2, 3])
      .map(async (x) => {
        if (x > 1) throw new Error("unseen");
        return x;
      })
      .iterate();
    expect((await iterator.next()).value).toBe(1);
    await sleep(10);
    await iterator.return?.();
    await sleep(5);
    expect(unhandled).toEqual([]);
  });
});

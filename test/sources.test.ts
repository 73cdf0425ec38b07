import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { concat, pipe } from "@sluice/dsl";
import { range, sleep } from "./helpers/time.js";

async function* asyncLetters(): AsyncGenerator<string> {
  for (const letter of ["a", "b", "c"]) {
    await sleep(1);
    yield letter;
  }
}

function webStream<T>(values: readonly T[]): ReadableStream<T> {
  return new ReadableStream<T>({
    start(controller) {
      for (const value of values) controller.enqueue(value);
      controller.close();
    },
  });
}

describe("source kinds", () => {
  it("an array gives its elements", async () => {
    expect(await pipe([1, 2, 3])).toEqual([1, 2, 3]);
  });

  it("an empty array gives an empty result", async () => {
    expect(await pipe([] as number[]).map((x) => x)).toEqual([]);
  });

  it("a Set (any Iterable) gives its elements", async () => {
    expect(await pipe(new Set(["x", "y"]))).toEqual(["x", "y"]);
    expect(await pipe(new Map([[1, "one"]]))).toEqual([[1, "one"]]);
  });

  it("a hand-written Iterable gives its elements", async () => {
    const iterable: Iterable<number> = {
      [Symbol.iterator]() {
        let i = 0;
        return { next: () => (i < 3 ? { done: false, value: i++ } : { done: true, value: undefined }) };
      },
    };
    expect(await pipe(iterable)).toEqual([0, 1, 2]);
  });

  it("a string is an Iterable of its characters", async () => {
    expect(await pipe("abc")).toEqual(["a", "b", "c"]);
  });

  it("a generator factory is called once per run, so the pipeline is re-runnable", async () => {
    let calls = 0;
    const p = pipe(() => {
      calls++;
      return range(3);
    });
    expect(await p).toEqual([0, 1, 2]);
    expect(await p).toEqual([0, 1, 2]);
    expect(calls).toBe(2);
  });

  it("an async generator gives its elements", async () => {
    expect(await pipe(asyncLetters())).toEqual(["a", "b", "c"]);
  });

  it("an async generator function is a re-runnable factory", async () => {
    const p = pipe(asyncLetters);
    expect(await p).toEqual(["a", "b", "c"]);
    expect(await p).toEqual(["a", "b", "c"]);
  });

  it("a hand-written AsyncIterable gives its elements", async () => {
    const iterable: AsyncIterable<number> = {
      [Symbol.asyncIterator]() {
        let i = 0;
        return {
          next: async () => (i < 2 ? { done: false, value: i++ } : { done: true, value: undefined }),
        };
      },
    };
    expect(await pipe(iterable)).toEqual([0, 1]);
  });

  it("a Node Readable in object mode gives its objects", async () => {
    const objects = [{ id: 1 }, { id: 2 }, { id: 3 }];
    const result = await pipe<{ id: number }>(Readable.from(objects)).map((o) => o.id);
    expect(result).toEqual([1, 2, 3]);
  });

  it("a factory returning a Node Readable is re-runnable", async () => {
    const p = pipe<number>(() => Readable.from([1, 2]));
    expect(await p).toEqual([1, 2]);
    expect(await p).toEqual([1, 2]);
  });

  it("a WHATWG ReadableStream gives its chunks", async () => {
    expect(await pipe(webStream([1, 2, 3])).map((x) => x * 2)).toEqual([2, 4, 6]);
  });

  it("a ReadableStream without Symbol.asyncIterator is read through getReader()", async () => {
    const stream = webStream(["p", "q"]);
    const readerOnly = { getReader: () => stream.getReader() } as unknown as ReadableStream<string>;
    expect(await pipe(readerOnly)).toEqual(["p", "q"]);
  });

  it("a factory returning a ReadableStream is re-runnable", async () => {
    const p = pipe(() => webStream(["s"]));
    expect(await p).toEqual(["s"]);
    expect(await p).toEqual(["s"]);
  });

  it("a Pipeline gives its elements and can be extended", async () => {
    const inner = pipe([1, 2, 3]).map((x) => x * 10);
    expect(await pipe(inner)).toEqual([10, 20, 30]);
    expect(await pipe(inner).map((x) => x + 1)).toEqual([11, 21, 31]);
  });

  it("a Promise of an array gives the array's elements", async () => {
    expect(await pipe(Promise.resolve([4, 5]))).toEqual([4, 5]);
  });

  it("a Promise of an async iterable gives its elements", async () => {
    expect(await pipe(Promise.resolve(asyncLetters()))).toEqual(["a", "b", "c"]);
  });

  it("a factory returning a promise is called once per run", async () => {
    let calls = 0;
    const p = pipe(async () => {
      calls++;
      await sleep(1);
      return [calls, calls];
    });
    expect(await p).toEqual([1, 1]);
    expect(await p).toEqual([2, 2]);
    expect(calls).toBe(2);
  });
});

describe("bad sources", () => {
  const bad: ReadonlyArray<readonly [string, unknown]> = [
    ["a number", 42],
    ["a plain object", { a: 1 }],
    ["null", null],
    ["undefined", undefined],
    ["a boolean", true],
  ];

  it.each(bad)("%s is a TypeError at build time that names what was received", (_what, source) => {
    let error: unknown;
    try {
      pipe(source as never);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(TypeError);
    const message = (error as Error).message;
    expect(message).toMatch(/^pipe\(\): the source must be/);
    expect(message).toContain("received");
  });

  it("the build-time TypeError for a number names the number", () => {
    expect(() => pipe(42 as never)).toThrow(/received 42\)/);
  });

  it("concat() names itself in the TypeError for a bad input", () => {
    expect(() => concat([1], 7 as never)).toThrow(TypeError);
    expect(() => concat([1], 7 as never)).toThrow(/^concat\(\)/);
  });

  it("a factory that returns a non-iterable fails the run with a TypeError", async () => {
    let calls = 0;
    const p = pipe((() => {
      calls++;
      return 5;
    }) as never);
    await expect(p.toArray()).rejects.toThrow(TypeError);
    expect(calls).toBe(1);
  });

  it("a promise that resolves to a non-iterable fails the run with a TypeError", async () => {
    await expect(pipe(Promise.resolve({ not: "iterable" }) as never).toArray()).rejects.toThrow(TypeError);
  });
});

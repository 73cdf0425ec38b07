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

describe("one-shot sources", () => {
  const reused = /earlier run already read.*pipe\(\(\) => /;

  it("a second run over a generator object fails with a TypeError that suggests a factory", async () => {
    const p = pipe(range(3)).map((x) => x * 2);
    expect(await p).toEqual([0, 2, 4]);
    const second = p.toArray();
    await expect(second).rejects.toThrow(TypeError);
    await expect(second).rejects.toThrow(reused);
    await expect(p.toArray()).rejects.toThrow(/^the source is an iterator/);
  });

  it("every way of consuming fails the same way: await, run(), for await, toResult()", async () => {
    const p = pipe(range(2));
    await p.run();
    await expect(Promise.resolve(p)).rejects.toThrow(reused);
    await expect(p.run()).rejects.toThrow(reused);
    await expect(p.toResult()).rejects.toThrow(reused);
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const x of p) seen.push(x);
      })(),
    ).rejects.toThrow(reused);
    expect(seen).toEqual([]);
  });

  it("a run that stopped early still used the iterator up: the next run fails", async () => {
    const p = pipe(range(10));
    for await (const x of p) if (x === 1) break;
    await expect(p.toArray()).rejects.toThrow(reused);
  });

  it("a second run while the first is still reading fails, and the first gets every element", async () => {
    const p = pipe(asyncLetters());
    const first = p.toArray();
    await expect(p.toArray()).rejects.toThrow(reused);
    expect(await first).toEqual(["a", "b", "c"]);
  });

  it("another pipeline over the same iterator fails too, since the iterator is used up", async () => {
    const letters = asyncLetters();
    expect(await pipe(letters)).toEqual(["a", "b", "c"]);
    await expect(pipe(letters).map((x) => x.toUpperCase()).toArray()).rejects.toThrow(reused);
  });

  it("an iterator from a factory or a promise is checked too", async () => {
    const numbers = range(2);
    const fromFactory = pipe(() => numbers);
    expect(await fromFactory).toEqual([0, 1]);
    await expect(fromFactory.toArray()).rejects.toThrow(reused);
    const fromPromise = pipe(Promise.resolve(range(2)));
    expect(await fromPromise).toEqual([0, 1]);
    await expect(fromPromise.toArray()).rejects.toThrow(reused);
  });

  it("a ReadableStream and a Node Readable fail on their second run, naming what they are", async () => {
    const web = pipe(webStream([1]));
    expect(await web).toEqual([1]);
    await expect(web.toArray()).rejects.toThrow(/^the source is a ReadableStream that an earlier run already read/);
    const node = pipe<number>(Readable.from([1]));
    expect(await node).toEqual([1]);
    await expect(node.toArray()).rejects.toThrow(/^the source is a Node\.js Readable stream that an earlier run already read/);
  });

  it("arrays, Sets and iterables that make a new iterator each time run again and again", async () => {
    const iterable: Iterable<number> = {
      *[Symbol.iterator]() {
        yield* [7, 8];
      },
    };
    for (const source of [[7, 8], new Set([7, 8]), iterable]) {
      const p = pipe(source);
      expect(await p).toEqual([7, 8]);
      expect(await p).toEqual([7, 8]);
    }
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

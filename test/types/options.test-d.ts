import { describe, it } from "vitest";
import { each, filter, flatMap, map, pipe } from "@sluice/dsl";

const p = pipe([1, 2, 3]);
const id = (x: number) => x;

describe("rejected options", () => {
  it("accepts every valid option", () => {
    p.map(id, {
      workers: 4,
      maxsize: 0,
      timeout: 1_000,
      onTimeout: "skip",
      name: "stage",
      onStart: () => ({}),
      onDone: () => undefined,
    });
    p.filter(() => true, { onTimeout: "error" });
  });

  it("unknown option keys do not compile", () => {
    // @ts-expect-error foo is not an option
    p.map(id, { foo: 1 });
    // @ts-expect-error misspelt workers
    p.filter(() => true, { worker: 2 });
    // @ts-expect-error concurrency is not an option (it is called workers)
    map(id, { concurrency: 2 });
  });

  it("wrongly typed option values do not compile", () => {
    // @ts-expect-error timeout is a number of milliseconds
    p.map(id, { timeout: "5" });
    // @ts-expect-error onTimeout is "error" or "skip"
    p.map(id, { onTimeout: "drop" });
    // @ts-expect-error workers is a number
    p.flatMap((x) => [x], { workers: "2" });
    // @ts-expect-error maxsize is a number
    p.each(id, { maxsize: true });
    // @ts-expect-error name is a string
    filter(id, { name: 5 });
    // @ts-expect-error onStart is a function
    p.map(id, { onStart: { client: 1 } });
    // @ts-expect-error onDone is a function
    each(id, { onDone: "close" });
    // @ts-expect-error options are an object
    p.map(id, 5);
  });

  it("f must be a function", () => {
    // @ts-expect-error f is not a function
    p.map(5);
    // @ts-expect-error f is not a function
    p.filter("yes");
    // @ts-expect-error f is not a function
    flatMap([1, 2]);
    // @ts-expect-error f is not a function
    each(null);
  });

  it("f must accept the element type", () => {
    // @ts-expect-error the elements are numbers
    p.map((s: string) => s.length);
    // @ts-expect-error the elements are numbers
    p.filter((s: string) => s === "");
    // @ts-expect-error the elements are numbers
    p.each((d: Date) => d.getTime());
    // @ts-expect-error flatMap must return an iterable
    p.flatMap((x) => x);
  });
});

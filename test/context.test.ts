import { describe, expect, it } from "vitest";
import { concat, each, filter, map, pipe, type Context } from "@sluice/dsl";
import { range, sleep } from "./helpers/time.js";

type Seen = Array<readonly [unknown, readonly number[]]>;

/** A map f that records each element with its index path. */
function recorder(seen: Seen) {
  return <T>(x: T, ctx: Context): T => {
    seen.push([x, ctx.index]);
    return x;
  };
}

const byPath = (a: readonly [unknown, readonly number[]], b: readonly [unknown, readonly number[]]) =>
  a[1].join(".").localeCompare(b[1].join("."), undefined, { numeric: true });

describe("ctx.index", () => {
  it("is the element's position in its source", async () => {
    const seen: Seen = [];
    await pipe(["a", "b", "c"]).map(recorder(seen));
    expect(seen).toEqual([
      ["a", [0]],
      ["b", [1]],
      ["c", [2]],
    ]);
  });

  it("counts positions of async sources and streams from 0", async () => {
    const seen: Seen = [];
    await pipe(async function* () {
      yield "x";
      await sleep(1);
      yield "y";
    }).map(recorder(seen));
    const stream = new ReadableStream<string>({
      start(c) {
        c.enqueue("z");
        c.close();
      },
    });
    await pipe(stream).map(recorder(seen));
    expect(seen).toEqual([
      ["x", [0]],
      ["y", [1]],
      ["z", [0]],
    ]);
  });

  it("keeps the source position through filter and later maps (no renumbering)", async () => {
    const seen: Seen = [];
    await pipe(() => range(6))
      .filter((x) => x % 2 === 1)
      .map((x) => x * 10)
      .map(recorder(seen));
    expect(seen).toEqual([
      [10, [1]],
      [30, [3]],
      [50, [5]],
    ]);
  });

  it("is the same path in every stage an element passes through, whatever the completion order", async () => {
    const first: Seen = [];
    const second: Seen = [];
    await pipe(() => range(10))
      .map(async (x, ctx) => (await sleep((10 - x) % 3), recorder(first)(x, ctx)), { workers: 4 })
      .map(recorder(second), { workers: 2 });
    expect([...first].sort(byPath)).toEqual([...range(10)].map((x) => [x, [x]]));
    expect([...second].sort(byPath)).toEqual([...range(10)].map((x) => [x, [x]]));
  });

  it("appends the position inside each flatMap expansion", async () => {
    const seen: Seen = [];
    await pipe(["ab", "", "cde"])
      .flatMap((s) => s.split(""))
      .map(recorder(seen));
    expect(seen).toEqual([
      ["a", [0, 0]],
      ["b", [0, 1]],
      ["c", [2, 0]],
      ["d", [2, 1]],
      ["e", [2, 2]],
    ]);
  });

  it("nests for nested flatMaps", async () => {
    const seen: Seen = [];
    await pipe([1, 2])
      .flatMap(async function* (x) {
        yield x;
        yield x * 10;
      })
      .flatMap((y) => [y, -y])
      .map(recorder(seen));
    expect([...seen].sort(byPath)).toEqual([
      [1, [0, 0, 0]],
      [-1, [0, 0, 1]],
      [10, [0, 1, 0]],
      [-10, [0, 1, 1]],
      [2, [1, 0, 0]],
      [-2, [1, 0, 1]],
      [20, [1, 1, 0]],
      [-20, [1, 1, 1]],
    ]);
  });

  it("gets the concat input's position prepended", async () => {
    const seen: Seen = [];
    await concat(["a", "b"], pipe(["c"]).flatMap((c) => [c, c])).map(recorder(seen));
    expect([...seen].sort(byPath)).toEqual([
      ["a", [0, 0]],
      ["b", [0, 1]],
      ["c", [1, 0, 0]],
      ["c", [1, 0, 1]],
    ]);
  });

  it("is unprefixed in stages before the concat", async () => {
    const before: Seen = [];
    const after: Seen = [];
    await concat([0], pipe(["x", "y"]).map(recorder(before))).map(recorder(after));
    expect(before).toEqual([
      ["x", [0]],
      ["y", [1]],
    ]);
    expect([...after].sort(byPath)).toEqual([
      [0, [0, 0]],
      ["x", [1, 0]],
      ["y", [1, 1]],
    ]);
  });

  it("nests for nested concats", async () => {
    const seen: Seen = [];
    await concat(concat(["a"], ["b"]), ["c"]).map(recorder(seen));
    expect([...seen].sort(byPath)).toEqual([
      ["a", [0, 0, 0]],
      ["b", [0, 1, 0]],
      ["c", [1, 0]],
    ]);
  });

  it("gives each broadcast branch its own prefix while the shared stage sees the source position", async () => {
    const shared: Seen = [];
    const after: Seen = [];
    const p = pipe(["s", "t"]).map(recorder(shared));
    await concat(p, p).map(recorder(after));
    expect(shared).toEqual([
      ["s", [0]],
      ["t", [1]],
    ]);
    expect([...after].sort(byPath)).toEqual([
      ["s", [0, 0]],
      ["t", [0, 1]],
      ["s", [1, 0]],
      ["t", [1, 1]],
    ]);
  });

  it("is not changed by ordered()", async () => {
    const seen: Seen = [];
    await pipe(["a", "b"]).flatMap((x) => [x]).ordered().map(recorder(seen));
    expect(seen).toEqual([
      ["a", [0, 0]],
      ["b", [1, 0]],
    ]);
  });
});

describe("ctx.stage", () => {
  /** Records the stage names `f` sees. */
  function names() {
    const seen = new Set<string>();
    const f = <T>(x: T, ctx: Context): T => {
      seen.add(ctx.stage);
      return x;
    };
    return { seen, f };
  }

  it("defaults to <method>#<depth>, depth counting stages from the source", async () => {
    const { seen, f } = names();
    await pipe([1, 2])
      .map(f)
      .filter((x, ctx) => (f(x, ctx), true))
      .flatMap((x, ctx) => [f(x, ctx)])
      .each((x, ctx) => void f(x, ctx));
    expect([...seen]).toEqual(["map#1", "filter#2", "flatMap#3", "each#4"]);
  });

  it("is the name option when given", async () => {
    const { seen, f } = names();
    await pipe([1]).map(f, { name: "fetch-users" }).map(f);
    expect([...seen]).toEqual(["fetch-users", "map#2"]);
  });

  it("does not count ordered() as a stage", async () => {
    const { seen, f } = names();
    await pipe([1]).map(f).ordered().map(f);
    expect([...seen]).toEqual(["map#1", "map#2"]);
  });

  it("continues the depth of a pipeline used as a source", async () => {
    const { seen, f } = names();
    await pipe(pipe([1]).map(f)).map(f);
    expect([...seen]).toEqual(["map#1", "map#2"]);
  });

  it("after concat, counts from the deepest input", async () => {
    const { seen, f } = names();
    await concat(pipe([1]).map((x) => x).map((x) => x), [2]).map(f);
    expect([...seen]).toEqual(["map#3"]);
  });

  it("is the same for operators as for methods", async () => {
    const { seen, f } = names();
    await pipe([1], map(f), filter((x, ctx) => (f(x, ctx), true)), each((x, ctx) => void f(x, ctx)));
    expect([...seen]).toEqual(["map#1", "filter#2", "each#3"]);
  });

  it("matches the stage name hooks receive", async () => {
    const hookNames: string[] = [];
    const { seen, f } = names();
    await pipe([1])
      .map((x) => x)
      .map(f, { onStart: (info) => (hookNames.push(info.stage), {}), onDone: (info) => void hookNames.push(info.stage) });
    expect([...seen]).toEqual(["map#2"]);
    expect(hookNames).toEqual(["map#2", "map#2"]);
  });
});

/**
 * Broadcast: a node used more than once in one graph (only a concat can do that) runs once
 * per run, and a FanOut hands each of its items to every consumer. Tested on core's own
 * pieces: FanOut by hand, `consumerCapacity`, and graphs built from core's node
 * constructors, run with `collect` / `iterate` (and once with `wire` and a hand-made sink).
 */
import { describe, expect, it } from "vitest";
import {
  createConcatNode,
  createOrderedNode,
  createSourceNode,
  createStageNode,
  defaultMaxsize,
  isPushbackError,
  maxWorkers,
  type Node,
  type StageFunction,
  type StageKind,
  type StageSettings,
} from "../../packages/core/src/index.js";
import { collect, iterate } from "../../packages/core/src/run-graph.js";
import { FanOut } from "../../packages/core/src/run/fan-out.js";
import type { Producer, Receiver } from "../../packages/core/src/run/flow.js";
import { DROP, END, Item, PathLink, VALUE } from "../../packages/core/src/run/item.js";
import { consumerCapacity, wire } from "../../packages/core/src/run/plan.js";
import { Run } from "../../packages/core/src/run/run.js";
import { deferred, type Deferred } from "../helpers/time.js";

// ---- helpers ----------------------------------------------------------------------------

let stageCount = 0;

/** Complete stage settings, as the DSL would build them (defaults: 1 worker, default maxsize). */
function settings(overrides: Partial<StageSettings> = {}): StageSettings {
  const workers = overrides.workers ?? 1;
  return {
    name: `stage#${++stageCount}`,
    workers,
    maxsize: defaultMaxsize(maxWorkers(workers)),
    timeout: undefined,
    onTimeout: "error",
    rateLimit: undefined,
    onError: "fail",
    retry: undefined,
    key: undefined,
    fallback: undefined,
    onStart: undefined,
    onDone: undefined,
    isPushback: isPushbackError,
    cost: undefined,
    ...overrides,
  };
}

function stage<T>(
  kind: StageKind,
  input: Node,
  f: (value: T) => unknown,
  overrides: Partial<StageSettings> = {},
): Node {
  return createStageNode(kind, input, f as StageFunction, settings(overrides));
}

const range = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => from + i);

/** A finite source whose pulls are counted (a sync iterator, pulled lazily). */
class CountingSource implements Iterable<number> {
  pulls = 0;
  constructor(readonly length: number) {}
  *[Symbol.iterator](): Generator<number> {
    while (this.pulls < this.length) yield this.pulls++;
  }
}

/** Resolves after the current macrotask. */
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Lets every pending promise chain and immediate run (the graphs here have no timers). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await tick();
}

/** A receiver that records what it gets and answers `push` with `accept()`. */
class Recorder implements Receiver {
  readonly items: Item[] = [];
  ends = 0;
  accept: (item: Item) => boolean = () => true;
  push(item: Item): boolean {
    this.items.push(item);
    return this.accept(item);
  }
  end(): void {
    this.ends++;
  }
}

/** A producer that counts its resumes. */
class Upstream implements Producer {
  resumes = 0;
  resume(): void {
    this.resumes++;
  }
}

function fanOf(count: number): { fan: FanOut; outs: Recorder[]; upstream: Upstream } {
  const fan = new FanOut();
  const upstream = new Upstream();
  fan.upstream = upstream;
  const outs = range(count).map(() => new Recorder());
  for (const out of outs) fan.addBranch(out);
  return { fan, outs, upstream };
}

const element = (value: unknown, pos = 0): Item => new Item(value, pos, null, null, VALUE, null);

// ---- FanOut -----------------------------------------------------------------------------

describe("FanOut", () => {
  it("hands each item to every branch, in branch order: clones to all but the last, the original to the last", () => {
    const { fan, outs } = fanOf(3);
    const up = new PathLink(4, null);
    const prefix = new PathLink(1, null);
    const item = new Item("v", 7, up, prefix, VALUE, null);
    expect(fan.push(item)).toBe(true);
    const received = outs.map((out) => out.items);
    expect(received.map((items) => items.length)).toEqual([1, 1, 1]);
    const [a, b, c] = received.map((items) => items[0]!);
    expect(c).toBe(item);
    expect(a).not.toBe(item);
    expect(b).not.toBe(item);
    expect(a).not.toBe(b);
    for (const clone of [a!, b!]) {
      expect(clone).toBeInstanceOf(Item);
      expect(clone).toEqual(item);
      // The path links are immutable and shared, not copied.
      expect(clone.up).toBe(up);
      expect(clone.prefix).toBe(prefix);
    }
  });

  it("with a single branch passes the item itself", () => {
    const { fan, outs } = fanOf(1);
    const item = element(1);
    expect(fan.push(item)).toBe(true);
    expect(outs[0]!.items).toEqual([item]);
    expect(outs[0]!.items[0]).toBe(item);
  });

  it("gives each branch an item of its own: a branch rewriting value, mark or prefix does not affect the others", () => {
    const { fan, outs } = fanOf(3);
    // What downstream stages do to the item they own: map rewrites value, filter marks a
    // drop, a concat input prepends to the prefix.
    outs[0]!.accept = (item) => {
      item.value = "mapped";
      return true;
    };
    outs[1]!.accept = (item) => {
      item.mark = DROP;
      item.value = undefined;
      item.prefix = new PathLink(9, item.prefix);
      return true;
    };
    fan.push(element("original", 3));
    const [a, b, c] = outs.map((out) => out.items[0]!);
    expect([a!.value, a!.mark, a!.prefix]).toEqual(["mapped", VALUE, null]);
    expect([b!.value, b!.mark, b!.prefix?.pos]).toEqual([undefined, DROP, 9]);
    expect([c!.value, c!.mark, c!.prefix, c!.pos]).toEqual(["original", VALUE, null, 3]);
  });

  it("fans drop and end markers out like elements", () => {
    const { fan, outs } = fanOf(2);
    expect(fan.push(new Item(undefined, 2, null, null, DROP, null))).toBe(true);
    expect(fan.push(new Item(3, -1, null, null, END, null))).toBe(true);
    for (const out of outs) {
      expect(out.items.map((item) => [item.mark, item.pos, item.value])).toEqual([
        [DROP, 2, undefined],
        [END, -1, 3],
      ]);
    }
  });

  it("returns false while any branch is blocked, and still hands the item to every branch", () => {
    const { fan, outs, upstream } = fanOf(3);
    outs[1]!.accept = () => false;
    expect(fan.push(element(0))).toBe(false);
    expect(outs.map((out) => out.items.length)).toEqual([1, 1, 1]);
    expect(fan.branches.map((branch) => branch.blocked)).toEqual([false, true, false]);
    expect(upstream.resumes).toBe(0);
  });

  it("counts a branch that refuses again while blocked only once", () => {
    const { fan, outs, upstream } = fanOf(2);
    outs[0]!.accept = () => false;
    // A producer may push again after false (say, a flatMap finishing an element): the
    // receiver still takes the item and refuses again.
    expect(fan.push(element(0))).toBe(false);
    expect(fan.push(element(1))).toBe(false);
    expect(fan.push(element(2))).toBe(false);
    expect(outs.map((out) => out.items.length)).toEqual([3, 3]);
    outs[0]!.accept = () => true;
    fan.branches[0]!.resume();
    expect(upstream.resumes).toBe(1);
    expect(fan.push(element(3))).toBe(true);
  });

  it("resumes upstream only once every blocked branch has resumed, and then exactly once", () => {
    const { fan, outs, upstream } = fanOf(3);
    outs[0]!.accept = () => false;
    outs[2]!.accept = () => false;
    expect(fan.push(element(0))).toBe(false);
    const [first, second, third] = fan.branches;
    first!.resume();
    expect(upstream.resumes).toBe(0);
    // A second resume of the same branch, and one of a branch that never blocked, change nothing.
    first!.resume();
    second!.resume();
    expect(upstream.resumes).toBe(0);
    third!.resume();
    expect(upstream.resumes).toBe(1);
    third!.resume();
    first!.resume();
    expect(upstream.resumes).toBe(1);
    expect(fan.branches.map((branch) => branch.blocked)).toEqual([false, false, false]);
  });

  it("a resume from a branch that never blocked does not resume upstream", () => {
    const { fan, upstream } = fanOf(2);
    expect(fan.push(element(0))).toBe(true);
    fan.branches[0]!.resume();
    fan.branches[1]!.resume();
    expect(upstream.resumes).toBe(0);
  });

  it("can block and resume repeatedly, a different branch each time", () => {
    const { fan, outs, upstream } = fanOf(2);
    for (let round = 0; round < 4; round++) {
      const slow = round % 2;
      outs[slow]!.accept = () => false;
      expect(fan.push(element(round, round))).toBe(false);
      outs[slow]!.accept = () => true;
      fan.branches[slow]!.resume();
      expect(upstream.resumes).toBe(round + 1);
    }
    expect(outs.map((out) => out.items.map((item) => item.value))).toEqual([
      [0, 1, 2, 3],
      [0, 1, 2, 3],
    ]);
  });

  it("each branch's resume handle belongs to that branch", () => {
    const { fan, outs } = fanOf(2);
    expect(fan.branches.map((branch) => branch.out)).toEqual(outs);
    expect(fan.branches.every((branch) => branch.fan === fan)).toBe(true);
  });

  it("end() ends every branch once", () => {
    const { fan, outs } = fanOf(3);
    fan.end();
    expect(outs.map((out) => out.ends)).toEqual([1, 1, 1]);
  });
});

// ---- consumerCapacity -------------------------------------------------------------------

describe("consumerCapacity", () => {
  const source = createSourceNode([1, 2, 3]);

  it("is the default maxsize of one worker for a bare source", () => {
    expect(consumerCapacity(source)).toBe(defaultMaxsize(1));
    expect(consumerCapacity(source)).toBe(16);
  });

  it.each<StageKind>(["map", "filter", "flatMap", "each"])("is the maxsize of a final %s stage", (kind) => {
    expect(consumerCapacity(stage(kind, source, (x) => x, { maxsize: 5 }))).toBe(5);
  });

  it("is the last stage's maxsize, not an earlier one's", () => {
    const first = stage("map", source, (x) => x, { maxsize: 50 });
    expect(consumerCapacity(stage("filter", first, (x) => x, { maxsize: 3 }))).toBe(3);
  });

  it("follows the stage's workers through its default maxsize", () => {
    expect(consumerCapacity(stage("map", source, (x) => x, { workers: 40 }))).toBe(40);
  });

  it("is 0 (unbounded) when the last stage is unbounded", () => {
    expect(consumerCapacity(stage("map", source, (x) => x, { maxsize: 0 }))).toBe(0);
  });

  it("looks through ordered(), however many", () => {
    const last = stage("map", source, (x) => x, { maxsize: 7 });
    expect(consumerCapacity(createOrderedNode(last))).toBe(7);
    expect(consumerCapacity(createOrderedNode(createOrderedNode(last)))).toBe(7);
    expect(consumerCapacity(createOrderedNode(source))).toBe(defaultMaxsize(1));
  });

  it("is the default for a concat at the end, whatever its inputs' stages say", () => {
    const input = stage("map", source, (x) => x, { maxsize: 3 });
    expect(consumerCapacity(createConcatNode([input, input]))).toBe(defaultMaxsize(1));
    expect(consumerCapacity(createOrderedNode(createConcatNode([input])))).toBe(defaultMaxsize(1));
  });
});

// ---- broadcast in running graphs --------------------------------------------------------

describe("broadcast of a shared node", () => {
  it("a shared stage used twice under a concat runs f once per element, and both branches get every element", async () => {
    let calls = 0;
    const shared = stage("map", createSourceNode(range(20)), (x: number) => {
      calls++;
      return x;
    });
    const left = stage("map", shared, (x: number) => `L${x}`);
    const right = stage("filter", shared, () => true);
    const values = (await collect(createConcatNode([left, right]), {}, true))!;
    expect(calls).toBe(20);
    expect(values).toHaveLength(40);
    expect(values.filter((x) => typeof x === "string").sort()).toEqual(range(20).map((x) => `L${x}`).sort());
    expect(values.filter((x) => typeof x === "number").sort((a, b) => (a as number) - (b as number))).toEqual(range(20));
  });

  it("concat(shared, shared) under ordered() gives every element twice, in input order", async () => {
    let calls = 0;
    const shared = stage(
      "map",
      createSourceNode(range(6)),
      async (x: number) => {
        calls++;
        await tick();
        return x;
      },
      { workers: 3 },
    );
    const root = createOrderedNode(createConcatNode([shared, shared]));
    expect(await collect(root, {}, true)).toEqual([...range(6), ...range(6)]);
    expect(calls).toBe(6);
  });

  it("a shared source factory is called once per run", async () => {
    let factoryCalls = 0;
    const source = createSourceNode(() => {
      factoryCalls++;
      return range(5);
    });
    const root = createOrderedNode(createConcatNode([source, source, source]));
    expect(await collect(root, {}, true)).toEqual([...range(5), ...range(5), ...range(5)]);
    expect(factoryCalls).toBe(1);
    await collect(root, {}, true);
    expect(factoryCalls).toBe(2);
  });

  it("a branch's stage rewriting its elements does not change what the other branch sees", async () => {
    const shared = stage("map", createSourceNode(range(5)), (x: number) => x);
    const tens = stage("map", shared, (x: number) => x * 10);
    const root = createOrderedNode(createConcatNode([tens, shared]));
    expect(await collect(root, {}, true)).toEqual([0, 10, 20, 30, 40, 0, 1, 2, 3, 4]);
  });

  it("a diamond and a node shared three times over nested concats each run the shared part once", async () => {
    let calls = 0;
    const shared = stage("map", createSourceNode([1, 2, 3]), (x: number) => {
      calls++;
      return x;
    });
    const doubled = stage("map", shared, (x: number) => x * 2);
    expect(await collect(createOrderedNode(createConcatNode([shared, doubled])), {}, true)).toEqual([1, 2, 3, 2, 4, 6]);
    expect(calls).toBe(3);
    calls = 0;
    const nested = createConcatNode([createConcatNode([shared, doubled]), shared]);
    expect(await collect(createOrderedNode(nested), {}, true)).toEqual([1, 2, 3, 2, 4, 6, 1, 2, 3]);
    expect(calls).toBe(3);
  });

  it("a shared node that is itself built on a shared node runs each once", async () => {
    let innerCalls = 0;
    let outerCalls = 0;
    const inner = stage("map", createSourceNode(range(4)), (x: number) => {
      innerCalls++;
      return x;
    });
    const outer = stage("map", inner, (x: number) => {
      outerCalls++;
      return x + 100;
    });
    const root = createOrderedNode(createConcatNode([outer, inner, outer]));
    expect(await collect(root, {}, true)).toEqual([100, 101, 102, 103, 0, 1, 2, 3, 100, 101, 102, 103]);
    expect([innerCalls, outerCalls]).toEqual([4, 4]);
  });

  it.each(["first", "second"])(
    "keeps ordered() exact when only the %s branch orders, with drops and expansions in the shared part",
    async (which) => {
      let calls = 0;
      // Shared: drop multiples of 3, expand the rest into [x, -x] (after a varying delay).
      const kept = stage("filter", createSourceNode(range(10)), (x: number) => x % 3 !== 0, { workers: 2 });
      const shared = stage(
        "flatMap",
        kept,
        async (x: number) => {
          calls++;
          for (let i = 0; i < x % 3; i++) await tick();
          return [x, -x];
        },
        { workers: 4 },
      );
      const expected = [1, -1, 2, -2, 4, -4, 5, -5, 7, -7, 8, -8];
      // One branch needs the shared part's markers (ordered), the other does not; whichever
      // the planner meets first, both get everything.
      const orderedBranch = createOrderedNode(stage("map", shared, (x: number) => `o${x}`, { workers: 3 }));
      const plainBranch = stage("map", shared, (x: number) => `p${x}`);
      const inputs = which === "first" ? [orderedBranch, plainBranch] : [plainBranch, orderedBranch];
      const values = (await collect(createConcatNode(inputs), {}, true))! as string[];
      expect(calls).toBe(6);
      expect(values.filter((x) => x.startsWith("o"))).toEqual(expected.map((x) => `o${x}`));
      expect(values.filter((x) => x.startsWith("p")).sort()).toEqual(expected.map((x) => `p${x}`).sort());
      // And ordered over the whole concat.
      calls = 0;
      const filtered = stage("filter", shared, (x: number) => x > 0);
      const whole = createOrderedNode(createConcatNode(which === "first" ? [shared, filtered] : [filtered, shared]));
      const positives = expected.filter((x) => x > 0);
      expect(await collect(whole, {}, true)).toEqual(
        which === "first" ? [...expected, ...positives] : [...positives, ...expected],
      );
      expect(calls).toBe(6);
    },
  );

  it("an ordered() node can itself be shared", async () => {
    let calls = 0;
    const inner = createOrderedNode(
      stage(
        "map",
        createSourceNode(range(8)),
        async (x: number) => {
          calls++;
          for (let i = 0; i < 8 - x; i++) await tick();
          return x;
        },
        { workers: 8 },
      ),
    );
    const values = (await collect(createConcatNode([inner, stage("map", inner, (x: number) => x + 100)]), {}, true))!;
    expect(values.filter((x) => (x as number) < 100)).toEqual(range(8));
    expect(values.filter((x) => (x as number) >= 100)).toEqual(range(8, 100));
    expect(calls).toBe(8);
  });

  it("an empty shared source ends every branch", async () => {
    const shared = stage("map", createSourceNode([]), (x: number) => x);
    const root = createOrderedNode(createConcatNode([shared, stage("flatMap", shared, (x: number) => [x, x])]));
    expect(await collect(root, {}, true)).toEqual([]);
  });
});

describe("broadcast backpressure: the slowest branch sets the pace", () => {
  it("a blocked branch pauses the shared producer; the fast branch runs ahead by exactly the slow branch's buffer", async () => {
    const source = new CountingSource(40);
    const sharedSettings = { workers: 1, maxsize: 1 };
    const slowSettings = { workers: 1, maxsize: 2 };
    let sharedCalls = 0;
    const shared = stage(
      "map",
      createSourceNode(source),
      (x: number) => {
        sharedCalls++;
        return x;
      },
      sharedSettings,
    );
    let fastSeen = 0;
    const fast = stage("map", shared, (x: number) => {
      fastSeen++;
      return x;
    });
    // The slow branch holds every call open until the test releases it.
    const gates: Deferred<void>[] = [];
    const slow = stage(
      "map",
      shared,
      async (x: number) => {
        const gate = deferred();
        gates.push(gate);
        await gate.promise;
        return -x;
      },
      slowSettings,
    );
    const done = collect(createConcatNode([fast, slow]), {}, true);

    await settle();
    // The slow stage took workers + maxsize elements and refused; the fan pushes to both
    // branches together, so the fast branch saw exactly those.
    const slowBuffer = slowSettings.workers + slowSettings.maxsize;
    expect(gates).toHaveLength(1);
    expect(fastSeen).toBe(slowBuffer);
    // Upstream of the fan, only the shared stage's own bound may be in hand.
    const sharedBuffer = sharedSettings.workers + sharedSettings.maxsize;
    expect(source.pulls).toBeLessThanOrEqual(fastSeen + sharedBuffer);
    expect(sharedCalls).toBeLessThanOrEqual(source.pulls);
    // Nothing moves while the slow branch is stuck.
    const pulls = source.pulls;
    await settle();
    expect([source.pulls, fastSeen, gates.length]).toEqual([pulls, slowBuffer, 1]);

    // Releasing the slow branch one call at a time lets exactly one more element through each time.
    for (let released = 1; released <= 5; released++) {
      gates[released - 1]!.resolve();
      await settle();
      expect(gates).toHaveLength(released + 1);
      expect(fastSeen).toBe(released + slowBuffer);
      expect(source.pulls).toBeLessThanOrEqual(fastSeen + sharedBuffer);
    }

    // Then let everything through: both branches get every element, the shared f ran once each.
    const releaseAll = setInterval(() => {
      for (const gate of gates) gate.resolve();
    }, 0);
    try {
      const values = (await done)! as number[];
      expect(values.filter((x) => x >= 0 && !Object.is(x, -0)).sort((a, b) => a - b)).toEqual(range(40));
      expect(values.filter((x) => x < 0 || Object.is(x, -0)).map((x) => -x).sort((a, b) => a - b)).toEqual(range(40));
    } finally {
      clearInterval(releaseAll);
    }
    expect([sharedCalls, fastSeen, gates.length, source.pulls]).toEqual([40, 40, 40, 40]);
  });

  it("a consumer that stops reading pauses the shared producer, and reading on delivers everything once", async () => {
    const source = new CountingSource(200);
    let calls = 0;
    const shared = stage(
      "map",
      createSourceNode(source),
      (x: number) => {
        calls++;
        return x;
      },
      { workers: 1, maxsize: 1 },
    );
    const left = stage("map", shared, (x: number) => `L${x}`, { workers: 1, maxsize: 1 });
    const right = stage("map", shared, (x: number) => `R${x}`, { workers: 1, maxsize: 1 });
    const root = createConcatNode([left, right]);
    const capacity = consumerCapacity(root);
    const iterator = iterate(root, {});
    const first = await iterator.next();
    expect(first.done).toBe(false);
    await settle();
    // The consumer's buffer filled and every branch stopped: the source is paused far short
    // of its 200 elements. A loose bound, counting each element once even though it yields
    // two values: the value read, the consumer's buffer, one more per concat input, and
    // workers + maxsize for each stage.
    const pulls = source.pulls;
    expect(pulls).toBeLessThanOrEqual(1 + capacity + 2 * 2 + 2 + 2);
    await settle();
    expect(source.pulls).toBe(pulls);

    const seen: string[] = [first.value as string];
    for (;;) {
      const next = await iterator.next();
      if (next.done === true) break;
      seen.push(next.value as string);
      if (seen.length % 37 === 0) await settle();
    }
    expect(calls).toBe(200);
    expect(seen.filter((x) => x.startsWith("L")).sort()).toEqual(range(200).map((x) => `L${x}`).sort());
    expect(seen.filter((x) => x.startsWith("R")).sort()).toEqual(range(200).map((x) => `R${x}`).sort());
  });

  it("a full consumer blocks both branches at once; each resume releases exactly one element per branch (wire)", () => {
    // Built with wire() and a hand-made consumer that refuses every push until resumed,
    // so every step is synchronous and exact.
    const source = new CountingSource(10);
    const shared = stage("map", createSourceNode(source), (x: number) => x, { workers: 1, maxsize: 1 });
    const received: unknown[] = [];
    let ended = false;
    const run = new Run(undefined);
    const sink = {
      upstream: undefined as unknown as Producer,
      push(item: Item): boolean {
        if (item.mark === VALUE) received.push(item.value);
        return false;
      },
      end(): void {
        ended = true;
        run.consumerEnded();
      },
    };
    let settled = false;
    run.onSettle = () => {
      settled = true;
    };
    wire(createConcatNode([shared, shared]), run, sink, null);
    run.start();
    // The first element reached the consumer through both inputs, and both were told to stop.
    expect(received).toEqual([0, 0]);
    for (let step = 1; step < 10; step++) {
      expect(ended).toBe(false);
      sink.upstream.resume();
      expect(received).toEqual(range(step + 1).flatMap((x) => [x, x]));
    }
    // The end needs no room: it follows the last element without another resume.
    expect(ended).toBe(true);
    expect(settled).toBe(true);
    expect(source.pulls).toBe(10);
  });
});

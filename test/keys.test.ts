/**
 * Per-key order (docs/behaviour.md §13): with `key`, calls for elements of one key never
 * overlap and start in arrival order, other keys run beside them up to `workers`, blocked
 * elements count toward `maxsize` and `waiting`, retries hold their key, a timeout frees it,
 * and a blocked element takes no rate-limit turn.
 */
import { describe, expect, it } from "vitest";
import { ElementErrors, OptionsError, each, filter, flatMap, map, pipe, type RunStats } from "@sluice/dsl";
import { CountingSource } from "./helpers/probes.js";
import { deferred, sleep, tick, until, type Deferred } from "./helpers/time.js";
import { recordUnhandledRejections } from "./helpers/unhandled.js";

const unhandled = recordUnhandledRejections();

interface Event {
  readonly id: string;
  readonly account: string | null | undefined;
}

const ev = (id: string, account: string | null | undefined = id[0]): Event => ({ id, account });

/** A stage function whose calls wait until the test releases them, recording starts and calls in flight. */
class Gatekeeper {
  readonly started: string[] = [];
  readonly open = new Map<string, Deferred<void>>();
  inFlight = 0;
  maxInFlight = 0;

  readonly f = async (event: Event): Promise<string> => {
    const gate = deferred();
    this.open.set(event.id, gate);
    this.started.push(event.id);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await gate.promise;
    } finally {
      this.inFlight--;
      this.open.delete(event.id);
    }
    return event.id;
  };

  /** Lets the call for `id` finish, then lets the stage react. */
  async finish(id: string): Promise<void> {
    const gate = this.open.get(id);
    if (gate === undefined) throw new Error(`${id} is not running (running: ${[...this.open.keys()].join(", ")})`);
    gate.resolve();
    await tick();
  }
}

describe("key: order within a key, parallel across keys", () => {
  it("calls of one key never overlap and start in arrival order, while other keys run beside them", async () => {
    const g = new Gatekeeper();
    const run = pipe([ev("a1"), ev("b1"), ev("a2"), ev("b2"), ev("a3"), ev("c1")]).map(g.f, { workers: 4, key: (e) => e.account }).toArray();
    await tick();
    expect(g.started).toEqual(["a1", "b1", "c1"]);
    await g.finish("a1");
    expect(g.started).toEqual(["a1", "b1", "c1", "a2"]);
    await g.finish("b1");
    await g.finish("a2");
    expect(g.started).toEqual(["a1", "b1", "c1", "a2", "b2", "a3"]);
    await g.finish("c1");
    await g.finish("b2");
    await g.finish("a3");
    expect(await run).toEqual(["a1", "b1", "a2", "c1", "b2", "a3"]);
  });

  it("null and undefined keys mean no order: such elements run at once, up to workers", async () => {
    const g = new Gatekeeper();
    const run = pipe([ev("x1", null), ev("x2", undefined), ev("x3", null), ev("a1"), ev("a2")]).map(g.f, { workers: 8, key: (e) => e.account }).toArray();
    await tick();
    expect(g.started).toEqual(["x1", "x2", "x3", "a1"]);
    for (const id of ["x1", "x2", "x3", "a1", "a2"]) await g.finish(id);
    expect((await run).sort()).toEqual(["a1", "a2", "x1", "x2", "x3"]);
  });

  it("workers caps all calls of the stage, whatever the number of keys", async () => {
    let inFlight = 0;
    let most = 0;
    const ids = Array.from({ length: 30 }, (_, i) => i);
    const out = await pipe(ids).map(
      async (i) => {
        most = Math.max(most, ++inFlight);
        await sleep(1);
        inFlight--;
        return i;
      },
      { workers: 3, key: (i) => `k${i}` },
    );
    expect(most).toBe(3);
    expect(out.sort((a, b) => a - b)).toEqual(ids);
  });

  it("an element waiting behind a busy key does not stop later elements of other keys", async () => {
    const g = new Gatekeeper();
    const run = pipe([ev("a1"), ev("a2"), ev("a3"), ev("a4"), ev("b1"), ev("c1")]).map(g.f, { workers: 2, maxsize: 8, key: (e) => e.account }).toArray();
    await tick();
    expect(g.started).toEqual(["a1", "b1"]);
    await g.finish("b1");
    expect(g.started).toEqual(["a1", "b1", "c1"]);
    for (const id of ["c1", "a1", "a2", "a3", "a4"]) await g.finish(id);
    expect(await run).toEqual(["b1", "c1", "a1", "a2", "a3", "a4"]);
  });

  it("output is in completion order, so each key's elements come out in source order", async () => {
    const events = Array.from({ length: 60 }, (_, i) => ({ i, account: i % 5 }));
    const out = await pipe(events).map(
      async (e) => {
        await sleep((e.i * 7) % 4);
        return e;
      },
      { workers: 6, key: (e) => e.account },
    );
    expect(out).toHaveLength(60);
    for (let account = 0; account < 5; account++) {
      const seen = out.filter((e) => e.account === account).map((e) => e.i);
      expect(seen).toEqual([...seen].sort((a, b) => a - b));
    }
  });

  it("keys are compared as Map keys: 1 and \"1\" are different keys, one object is one key", async () => {
    const g = new Gatekeeper();
    const shared = {};
    const keys = new Map<string, unknown>([
      ["n1", 1],
      ["s1", "1"],
      ["o1", shared],
      ["o2", shared],
    ]);
    const run = pipe([ev("n1"), ev("s1"), ev("o1"), ev("o2")]).map(g.f, { workers: 4, key: (e) => keys.get(e.id) as PropertyKey }).toArray();
    await tick();
    expect(g.started).toEqual(["n1", "s1", "o1"]);
    for (const id of ["n1", "s1", "o1", "o2"]) await g.finish(id);
    expect(await run).toHaveLength(4);
  });

  it("the key is computed once per element, when it reaches the stage, retries included", async () => {
    const keyed: number[] = [];
    const failedOnce = new Set<number>();
    const out = await pipe([1, 2, 3, 4]).map(
      (x) => {
        if (!failedOnce.has(x)) {
          failedOnce.add(x);
          throw new Error(`first try of ${x}`);
        }
        return x;
      },
      { workers: 2, retry: { retries: 1, minDelay: 1 }, key: (x) => (keyed.push(x), x % 2) },
    );
    expect(keyed).toEqual([1, 2, 3, 4]);
    expect(out.sort()).toEqual([1, 2, 3, 4]);
  });
});

describe("key and the bound", () => {
  it("elements blocked behind a hot key count toward maxsize: the buffer fills and backpressure reaches the source", async () => {
    const source = new CountingSource();
    const g = new Gatekeeper();
    const iterator = pipe(source)
      .map((n) => ev(`a${n}`, "hot"))
      .map(g.f, { workers: 4, maxsize: 3, key: (e) => e.account })
      .iterate();
    const first = iterator.next();
    await sleep(20);
    // One call in flight, three blocked behind it (the bound), the first stage's own
    // workers + maxsize (1 + 16), and one pulled element in hand.
    expect(g.started).toEqual(["a0"]);
    expect(source.pulls).toBeLessThanOrEqual(1 + 3 + 1 + 16 + 1);
    const pullsWhileFull = source.pulls;
    await sleep(20);
    expect(source.pulls).toBe(pullsWhileFull);
    await g.finish("a0");
    expect(await first).toEqual({ done: false, value: "a0" });
    // Teardown waits for the call in flight (a1, which took a0's key).
    const closed = iterator.return!();
    await g.finish("a1");
    await closed;
    expect(g.started).toEqual(["a0", "a1"]);
  });

  it("RunStats counts key-blocked elements in the stage's waiting", async () => {
    const g = new Gatekeeper();
    const snapshots: RunStats[] = [];
    const run = pipe([ev("a1"), ev("a2"), ev("a3"), ev("b1")])
      .map(g.f, { workers: 4, key: (e) => e.account, name: "keyed" })
      .toArray({ onProgress: (stats) => snapshots.push(stats), progressInterval: 1 });
    await until(() => snapshots.length > 0 && g.started.length === 2, "a snapshot with both keys running");
    await until(() => snapshots.length > 2, "two more snapshots");
    const stage = snapshots.at(-1)!.stages.find((s) => s.name === "keyed")!;
    expect(stage).toMatchObject({ waiting: 2, inFlight: 2, taken: 2 });
    for (const id of ["a1", "b1", "a2", "a3"]) await g.finish(id);
    expect(await run).toHaveLength(4);
    expect(snapshots.at(-1)!.stages.find((s) => s.name === "keyed")).toMatchObject({ waiting: 0, inFlight: 0, taken: 4, done: 4 });
  });
});

describe("key with retries, timeouts and rate limits", () => {
  it("retries and back-offs hold their key: the next element of the key starts only after the last attempt", async () => {
    const starts: string[] = [];
    let tries = 0;
    const out = await pipe([ev("a1"), ev("a2"), ev("b1")]).map(
      async (e, { attempt }) => {
        starts.push(`${e.id}#${attempt}`);
        if (e.id === "a1" && ++tries < 3) throw new Error("flaky");
        await sleep(1);
        return e.id;
      },
      { workers: 4, retry: { retries: 3, minDelay: 15, jitter: "none" }, key: (e) => e.account },
    );
    expect(starts.filter((s) => s.startsWith("a"))).toEqual(["a1#1", "a1#2", "a1#3", "a2#1"]);
    expect(starts.indexOf("b1#1")).toBeLessThan(starts.indexOf("a1#2"));
    expect(out.sort()).toEqual(["a1", "a2", "b1"]);
  });

  it("a key is freed when its element is given up on under onError", async () => {
    const starts: string[] = [];
    const { results, errors } = await pipe([ev("a1"), ev("a2")])
      .map(
        async (e) => {
          starts.push(e.id);
          await sleep(1);
          if (e.id === "a1") throw new Error("bad");
          return e.id;
        },
        { workers: 2, retry: { retries: 1, minDelay: 1 }, onError: "collect", key: (e) => e.account },
      )
      .toResult();
    expect(starts).toEqual(["a1", "a1", "a2"]);
    expect(results).toEqual(["a2"]);
    expect(errors.map((e) => e.attempts)).toEqual([2]);
  });

  it("a call that times out frees its key at the timeout, when its ctx.signal aborts", async () => {
    const log: string[] = [];
    const out = await pipe([ev("a1"), ev("a2")]).map(
      (e, { signal }) => {
        log.push(`start ${e.id}`);
        if (e.id === "a2") return e.id;
        signal.addEventListener("abort", () => log.push(`abort ${e.id}`));
        return new Promise<string>(() => {}); // never settles
      },
      { workers: 2, timeout: 20, onTimeout: "skip", key: (e) => e.account },
    );
    expect(out).toEqual(["a2"]);
    expect(log).toEqual(["start a1", "abort a1", "start a2"]);
  });

  it("an element blocked behind its key takes no rate-limit turn", async () => {
    const g = new Gatekeeper();
    const run = pipe([ev("a1"), ev("a2"), ev("b1")]).map(g.f, { workers: 4, rateLimit: { limit: 2, interval: 150 }, key: (e) => e.account }).toArray();
    await tick();
    // Had a2 taken a turn while it waited behind a1, b1 would wait for the window.
    expect(g.started).toEqual(["a1", "b1"]);
    await g.finish("a1");
    await g.finish("b1");
    await until(() => g.started.length === 3, "a2 to get its turn");
    await g.finish("a2");
    expect(await run).toEqual(["a1", "b1", "a2"]);
  });
});

describe("key with teardown and ordered()", () => {
  it("an abort while elements wait behind their keys starts none of them and settles the run", async () => {
    const g = new Gatekeeper();
    const controller = new AbortController();
    const reason = new Error("stop");
    const run = pipe([ev("a1"), ev("a2"), ev("a3"), ev("b1"), ev("b2")])
      .map(g.f, { workers: 4, key: (e) => e.account })
      .toArray({ signal: controller.signal });
    await tick();
    expect(g.started).toEqual(["a1", "b1"]);
    controller.abort(reason);
    // Teardown waits for the calls in flight; nothing blocked behind them starts.
    await g.finish("a1");
    await g.finish("b1");
    await expect(run).rejects.toBe(reason);
    expect(g.started).toEqual(["a1", "b1"]);
  });

  it("ordered() after a keyed stage restores source order, filtered elements included", async () => {
    const events = Array.from({ length: 30 }, (_, i) => ({ i, account: i % 3 }));
    const out = await pipe(events)
      .filter(
        async (e) => {
          await sleep((e.i * 5) % 3);
          return e.i % 4 !== 0;
        },
        { workers: 5, key: (e) => e.account },
      )
      .ordered();
    expect(out.map((e) => e.i)).toEqual(events.filter((e) => e.i % 4 !== 0).map((e) => e.i));
  });
});

describe("a key function that throws", () => {
  it("fails the run with that error, like f, by default", async () => {
    const bad = new Error("no account");
    const calls: string[] = [];
    const run = pipe([ev("a1"), ev("b1")]).map(
      (e) => (calls.push(e.id), e.id),
      {
        key: (e) => {
          if (e.id === "b1") throw bad;
          return e.account;
        },
      },
    );
    await expect(run).rejects.toBe(bad);
    expect(calls).not.toContain("b1");
  });

  it("is an element failure under onError, never retried, with 0 attempts", async () => {
    const calls: string[] = [];
    const { results, errors } = await pipe([ev("a1"), ev("b1"), ev("a2")])
      .map((e) => (calls.push(e.id), e.id), {
        workers: 2,
        retry: 3,
        onError: "collect",
        key: (e) => {
          if (e.id === "b1") throw new TypeError("no account");
          return e.account;
        },
      })
      .toResult();
    expect(results.sort()).toEqual(["a1", "a2"]);
    expect(calls.sort()).toEqual(["a1", "a2"]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ value: ev("b1"), attempts: 0, index: [1] });
    expect(errors[0]!.error).toBeInstanceOf(TypeError);
  });

  it("is skipped under onError: \"skip\" and the rest of the run goes on", async () => {
    const out = await pipe([1, 2, 3, 4]).map((x) => x * 10, {
      onError: "skip",
      key: (x) => {
        if (x === 3) throw new Error("no key");
        return x % 2;
      },
    });
    expect(out.sort((a, b) => a - b)).toEqual([10, 20, 40]);
  });

  it("collected failures reach await as ElementErrors", async () => {
    const run = pipe([1, 2]).map((x) => x, { onError: "collect", key: () => { throw new Error("k"); } });
    await expect(run).rejects.toBeInstanceOf(ElementErrors);
  });
});

describe("key on every worker stage", () => {
  const events = [ev("a1"), ev("b1"), ev("a2"), ev("b2"), ev("a3")];
  const slowly = async <T>(value: T, running: Set<string>, account: string): Promise<T> => {
    if (running.has(account)) throw new Error(`two calls of ${account} at once`);
    running.add(account);
    await sleep(2);
    running.delete(account);
    return value;
  };

  it("filter, flatMap and each, as methods and as operators", async () => {
    const running = new Set<string>();
    const viaMethods = await pipe(events)
      .filter((e) => slowly(true, running, e.account!), { workers: 4, key: (e) => e.account })
      .flatMap((e) => slowly([e.id, e.id], running, `x${e.account}`), { workers: 4, key: (e) => e.account });
    expect(viaMethods.filter((id) => id.startsWith("a"))).toEqual(["a1", "a1", "a2", "a2", "a3", "a3"]);
    const done: string[] = [];
    await pipe(
      events,
      filter((e: Event) => slowly(true, running, `f${e.account}`), { workers: 4, key: (e) => e.account }),
      map((e: Event) => slowly(e, running, `m${e.account}`), { workers: 4, key: (e) => e.account }),
      flatMap((e: Event) => slowly([e], running, `g${e.account}`), { workers: 4, key: (e) => e.account }),
      each((e: Event) => slowly(done.push(e.id), running, `e${e.account}`), { workers: 4, key: (e) => e.account }),
    ).run();
    expect(done.filter((id) => id.startsWith("b"))).toEqual(["b1", "b2"]);
    expect(done.filter((id) => id.startsWith("a"))).toEqual(["a1", "a2", "a3"]);
    expect(unhandled).toEqual([]);
  });

  it("a key that is not a function is an OptionsError at build time", () => {
    expect(() => pipe(events).map((e) => e, { key: "account" as never })).toThrow(OptionsError);
    expect(() => map((e: Event) => e, { key: 1 as never })).toThrow("map(): options.key must be a function (received 1)");
  });
});

import { describe, expect, it } from "vitest";
import { OptionsError, concat, pipe, type HookInfo } from "@sluice/dsl";
import { CountingSource, sorted } from "./helpers/probes.js";
import { deferred, range, sleep } from "./helpers/time.js";
import { recordUnhandledRejections } from "./helpers/unhandled.js";

const unhandled = recordUnhandledRejections();

class Client {
  static created = 0;
  readonly id = ++Client.created;
  closed = 0;
  close(): void {
    this.closed++;
  }
}

describe("onStart", () => {
  it("is called once per stage per run", async () => {
    const starts = { map: 0, filter: 0 };
    const p = pipe(() => range(20))
      .map(async (x) => (await sleep(1), x), { workers: 4, onStart: () => (starts.map++, {}) })
      .filter(() => true, { workers: 2, onStart: () => (starts.filter++, {}) });
    await p;
    expect(starts).toEqual({ map: 1, filter: 1 });
    await p.run();
    for await (const _ of p) break;
    expect(starts).toEqual({ map: 3, filter: 3 });
  });

  it("is called for every stage when the run starts, before any call of f", async () => {
    const events: string[] = [];
    await pipe([1, 2])
      .map((x) => (events.push(`map ${x}`), x), { onStart: () => (events.push("start map"), {}) })
      .filter(() => (events.push("filter"), true))
      .each(() => void events.push("each"), { onStart: () => (events.push("start each"), {}) });
    expect(events.slice(0, 2).sort()).toEqual(["start each", "start map"]);
    expect(events.filter((e) => e.startsWith("start"))).toHaveLength(2);
  });

  it("an async onStart holds back the stage's calls until it resolves", async () => {
    const ready = deferred<{ client: Client }>();
    let calls = 0;
    const result = pipe([1, 2, 3])
      .map(
        (x, ctx) => {
          calls++;
          return `${ctx.client.id}:${x}`;
        },
        { onStart: () => ready.promise },
      )
      .toArray();
    await sleep(5);
    expect(calls).toBe(0);
    const client = new Client();
    ready.resolve({ client });
    expect(await result).toEqual([`${client.id}:1`, `${client.id}:2`, `${client.id}:3`]);
  });

  it("receives the stage's name and the run's signal", async () => {
    const infos: HookInfo[] = [];
    await pipe([1])
      .map((x) => x, { onStart: (info: HookInfo) => (infos.push(info), {}) })
      .map((x) => x, { name: "second", onStart: (info: HookInfo) => (infos.push(info), {}) });
    expect(infos.map((i) => i.stage).sort()).toEqual(["map#1", "second"]);
    for (const info of infos) expect(info.signal).toBeInstanceOf(AbortSignal);
  });

  it("its result is merged into every ctx and passed to onDone, as the same values", async () => {
    const client = new Client();
    const seenClients = new Set<Client>();
    const done: Array<{ client: Client; stage: string }> = [];
    const result = await pipe([1, 2, 3]).map(
      (x, ctx) => {
        seenClients.add(ctx.client);
        expect(ctx.stage).toBe("map#1");
        expect(ctx.index).toEqual([x - 1]);
        expect(ctx.signal).toBeInstanceOf(AbortSignal);
        return x * ctx.factor;
      },
      {
        workers: 2,
        onStart: () => ({ client, factor: 10 }),
        onDone: (ctx) => void done.push({ client: ctx.client, stage: ctx.stage }),
      },
    );
    expect(sorted(result)).toEqual([10, 20, 30]);
    expect([...seenClients]).toEqual([client]);
    expect(done).toEqual([{ client, stage: "map#1" }]);
  });

  it("gives each run its own resources", async () => {
    const perRun: Array<Set<number>> = [];
    const p = pipe(() => range(6)).map(
      async (x, ctx) => {
        await sleep(1);
        ctx.ids.add(ctx.client.id);
        return x;
      },
      {
        workers: 2,
        onStart: () => {
          const ids = new Set<number>();
          perRun.push(ids);
          return { client: new Client(), ids };
        },
        onDone: ({ client }) => client.close(),
      },
    );
    await Promise.all([p.toArray(), p.toArray(), p.run()]);
    expect(perRun).toHaveLength(3);
    const ids = perRun.map((set) => [...set]);
    for (const set of ids) expect(set).toHaveLength(1);
    expect(new Set(ids.flat()).size).toBe(3);
  });

  it("a shared stage's onStart and onDone run once per run under broadcast", async () => {
    let starts = 0;
    let dones = 0;
    const shared = pipe([1, 2, 3]).map((x) => x, { onStart: () => (starts++, {}), onDone: () => void dones++ });
    await concat(shared, shared.map((x) => -x));
    expect([starts, dones]).toEqual([1, 1]);
  });

  it("works on filter, flatMap and each too", async () => {
    const done: string[] = [];
    const result = await pipe([1, 2, 3, 4])
      .filter((x, ctx) => x % ctx.mod === 0, { onStart: () => ({ mod: 2 }), onDone: (c) => void done.push(c.stage) })
      .flatMap((x, ctx) => [x, x * ctx.k], { onStart: async () => ({ k: 100 }), onDone: (c) => void done.push(c.stage) })
      .ordered();
    await pipe([1]).each((_, ctx) => void ctx.log.push("each"), {
      onStart: () => ({ log: done }),
      onDone: (c) => void c.log.push(c.stage),
    });
    expect(result).toEqual([2, 200, 4, 400]);
    expect(done.sort()).toEqual(["each", "each#1", "filter#1", "flatMap#2"]);
  });

  it("may return nothing; onDone then receives the hook info", async () => {
    const done: string[] = [];
    // The types ask for an object; at run time nothing (undefined or null) is accepted too.
    await pipe([1]).map((x) => x, { onStart: (() => undefined) as never, onDone: (info) => void done.push(info.stage) });
    await pipe([1]).map((x) => x, { onStart: (() => null) as never, onDone: (info) => void done.push(info.stage) });
    expect(done).toEqual(["map#1", "map#1"]);
  });
});

describe("onDone", () => {
  it("runs exactly once on success, after the stage's last call settled, before the consumer's promise settles", async () => {
    const events: string[] = [];
    await pipe([1, 2, 3]).map(
      async (x) => {
        await sleep(x);
        events.push(`settled ${x}`);
        return x;
      },
      {
        workers: 3,
        onDone: async () => {
          await sleep(2);
          events.push("done");
        },
      },
    );
    events.push("consumer");
    expect(events.slice(3)).toEqual(["done", "consumer"]);
    expect(events.filter((e) => e === "done")).toHaveLength(1);
  });

  it("runs once for a stage that received no elements", async () => {
    let dones = 0;
    await pipe([] as number[]).map((x) => x, { onDone: () => void dones++ });
    expect(dones).toBe(1);
  });

  it("runs exactly once on failure, after in-flight calls settled, and the run fails with the f error", async () => {
    const boom = new Error("f failed");
    let inFlight = 0;
    const dones: number[] = [];
    const p = pipe(() => range(10)).map(
      async (x, ctx) => {
        inFlight++;
        try {
          if (x === 2) {
            await sleep(1);
            throw boom;
          }
          await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
          await sleep(3);
          return x;
        } finally {
          inFlight--;
        }
      },
      { workers: 4, onDone: () => void dones.push(inFlight) },
    );
    await expect(p.toArray()).rejects.toBe(boom);
    expect(dones).toEqual([0]);
  });

  it("runs exactly once in every stage on failure of another stage", async () => {
    const dones: string[] = [];
    const p = pipe(() => range(10))
      .map((x) => x, { onDone: (c) => void dones.push(c.stage) })
      .map(
        (x) => {
          if (x === 5) throw new Error("middle");
          return x;
        },
        { onDone: (c) => void dones.push(c.stage) },
      )
      .map((x) => x, { onDone: (c) => void dones.push(c.stage) });
    await expect(p.run()).rejects.toThrow("middle");
    expect(dones.sort()).toEqual(["map#1", "map#2", "map#3"]);
  });

  it("runs exactly once on break, before the loop exits", async () => {
    const client = new Client();
    let dones = 0;
    const p = pipe(new CountingSource()).map(async (x) => (await sleep(1), x), {
      workers: 3,
      onStart: () => ({ client }),
      onDone: ({ client }) => {
        dones++;
        client.close();
      },
    });
    for await (const x of p) {
      if (x >= 3) break;
    }
    expect(dones).toBe(1);
    expect(client.closed).toBe(1);
  });

  it("runs exactly once on the caller's abort, before the consumer sees the reason", async () => {
    const controller = new AbortController();
    let dones = 0;
    const p = pipe(new CountingSource()).map(async (x) => (await sleep(1), x), {
      workers: 2,
      onDone: () => void dones++,
    });
    const result = p.run({ signal: controller.signal });
    await sleep(5);
    controller.abort("stop");
    await expect(result).rejects.toBe("stop");
    expect(dones).toBe(1);
    await sleep(5);
    expect(dones).toBe(1);
  });

  it("the onStart info's signal aborts on teardown", async () => {
    let signal: AbortSignal | undefined;
    for await (const _ of pipe(new CountingSource()).map((x) => x, {
      onStart: (info: HookInfo) => ((signal = info.signal), {}),
    })) {
      break;
    }
    expect(signal?.aborted).toBe(true);
  });
});

describe("hook errors", () => {
  it("a throwing onStart fails the run with its error, and no call of f happens", async () => {
    const boom = new Error("onStart");
    let calls = 0;
    const p = pipe([1, 2]).map(
      (x) => {
        calls++;
        return x;
      },
      {
        onStart: () => {
          throw boom;
        },
      },
    );
    await expect(p.toArray()).rejects.toBe(boom);
    expect(calls).toBe(0);
  });

  it("a rejecting onStart fails the run with its reason; that stage's onDone does not run, the others' do", async () => {
    const boom = new Error("async onStart");
    const dones: string[] = [];
    const p = pipe([1, 2])
      .map((x) => x, { onStart: async () => ({ ok: true }), onDone: (c) => void dones.push(c.stage) })
      .map((x) => x, {
        onStart: async (): Promise<{ never: true }> => {
          await sleep(2);
          throw boom;
        },
        onDone: (c) => void dones.push(c.stage),
      });
    await expect(p.run()).rejects.toBe(boom);
    expect(dones).toEqual(["map#1"]);
  });

  it("a throwing onDone fails an otherwise successful run with its error", async () => {
    const boom = new Error("onDone");
    const p = pipe([1, 2]).map((x) => x, {
      onDone: () => {
        throw boom;
      },
    });
    await expect(p.toArray()).rejects.toBe(boom);
    await expect(p.run()).rejects.toBe(boom);
  });

  it("a rejecting onDone fails the run, also through for await", async () => {
    const boom = new Error("async onDone");
    const p = pipe([1, 2]).map((x) => x, {
      onDone: async () => {
        await sleep(1);
        throw boom;
      },
    });
    let caught: unknown;
    const seen: number[] = [];
    try {
      for await (const x of p) seen.push(x);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBe(boom);
  });

  it("an onDone error after an f error is dropped: the first error wins", async () => {
    const first = new Error("f");
    const p = pipe([1]).map(
      () => {
        throw first;
      },
      {
        onDone: () => {
          throw new Error("onDone");
        },
      },
    );
    await expect(p.toArray()).rejects.toBe(first);
    await sleep(5);
    expect(unhandled).toEqual([]);
  });

  it.each(["signal", "index", "stage"])("an onStart returning the reserved key %s fails the run with an OptionsError", async (key) => {
    let calls = 0;
    const p = pipe([1]).map(
      (x) => {
        calls++;
        return x;
      },
      { onStart: () => ({ [key]: 1 }) as never },
    );
    const error = await p.toArray().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OptionsError);
    expect((error as Error).message).toContain("map#1");
    expect((error as Error).message).toContain(`"${key}"`);
    expect(calls).toBe(0);
  });

  it("an onStart returning a non-object fails the run with an OptionsError", async () => {
    const error = await pipe([1])
      .map((x) => x, { onStart: (() => 5) as never })
      .toArray()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OptionsError);
    expect((error as Error).message).toContain("received 5");
  });

  it("hook errors never leak as unhandled rejections", async () => {
    const ready = deferred();
    const p = pipe([1, 2, 3])
      .map(async (x) => (await ready.promise, x), {
        workers: 3,
        onDone: async () => {
          throw new Error("done 1");
        },
      })
      .map((x) => x, {
        onStart: async () => {
          await sleep(1);
          throw new Error("start 2");
        },
        onDone: () => {
          throw new Error("never");
        },
      });
    const result = p.toArray();
    await sleep(5); // "start 2" fails the run while the first stage's calls are still held
    ready.resolve();
    await expect(result).rejects.toThrow("start 2");
    await sleep(5);
    expect(unhandled).toEqual([]);
  });
});

describe("onStart values in ctx", () => {
  it("are the caller's own, even when one is named like an engine internal (release)", async () => {
    let released = 0;
    const seen: unknown[] = [];
    const result = await pipe([1, 2, 3]).map(
      async (x, ctx) => {
        seen.push(ctx.signal.aborted, typeof ctx.release);
        await sleep(1);
        return x + ctx.base;
      },
      { workers: 2, onStart: () => ({ base: 10, release: () => released++ }) },
    );
    expect(sorted(result)).toEqual([11, 12, 13]);
    expect(released).toBe(0);
    expect(seen).toEqual([false, "function", false, "function", false, "function"]);
  });
});

import { describe, expectTypeOf, it } from "vitest";
import { map, pipe, type ElementOf, type HookInfo } from "@sluice/dsl";

class Client {
  get(id: number): Promise<string> {
    return Promise.resolve(String(id));
  }
  close(): void {}
}

describe("typed context from onStart", () => {
  it("onStart written without a parameter types ctx in f and in onDone", () => {
    const p = pipe([1, 2]).map((id, ctx) => ctx.client.get(id), {
      onStart: () => ({ client: new Client(), retries: 3 }),
      onDone: (ctx) => {
        expectTypeOf(ctx.client).toEqualTypeOf<Client>();
        expectTypeOf(ctx.retries).toEqualTypeOf<number>();
        expectTypeOf(ctx.stage).toEqualTypeOf<string>();
        expectTypeOf(ctx.signal).toEqualTypeOf<AbortSignal>();
        ctx.client.close();
      },
    });
    expectTypeOf<ElementOf<typeof p>>().toEqualTypeOf<string>();
  });

  it("onStart with an annotated HookInfo parameter types ctx too", () => {
    pipe([1]).map(
      (id, ctx) => {
        expectTypeOf(ctx.client).toEqualTypeOf<Client>();
        expectTypeOf(ctx.label).toEqualTypeOf<string>();
        expectTypeOf(ctx.index).toEqualTypeOf<readonly number[]>();
        return id;
      },
      { onStart: (info: HookInfo) => ({ client: new Client(), label: info.stage }) },
    );
  });

  it("an async onStart types ctx with the resolved value", () => {
    pipe(["a"]).filter(
      (x, ctx) => {
        expectTypeOf(ctx.db).toEqualTypeOf<Map<string, number>>();
        return ctx.db.has(x);
      },
      { onStart: async () => ({ db: new Map<string, number>() }) },
    );
  });

  it("typed ctx works on flatMap, each and in operator form", () => {
    pipe([1]).flatMap((x, ctx) => [ctx.prefix + x], { onStart: () => ({ prefix: "#" }) });
    pipe([1]).each((x, ctx) => ctx.sink.push(x), { onStart: () => ({ sink: [] as number[] }) });
    const op = map((x: number, ctx) => ctx.scale * x, { onStart: () => ({ scale: 2 }) });
    const p = pipe([1], op);
    expectTypeOf<ElementOf<typeof p>>().toEqualTypeOf<number>();
  });

  it("onStart's info is a HookInfo", () => {
    pipe([1]).map((x) => x, {
      onStart: (info: HookInfo) => {
        expectTypeOf(info.stage).toEqualTypeOf<string>();
        expectTypeOf(info.signal).toEqualTypeOf<AbortSignal>();
        return {};
      },
    });
  });

  it("without onStart, ctx has only the engine's keys", () => {
    pipe([1]).map((x, ctx) => {
      // @ts-expect-error no onStart, so no client
      void ctx.client;
      return x;
    });
  });

  it("a key onStart did not return is an error in f", () => {
    pipe([1]).map(
      (x, ctx) => {
        // @ts-expect-error onStart returned { client }, not { pool }
        void ctx.pool;
        return x;
      },
      { onStart: () => ({ client: new Client() }) },
    );
  });

  it("onStart may not return the reserved keys", () => {
    // @ts-expect-error signal is reserved
    pipe([1]).map((x) => x, { onStart: () => ({ signal: 1 }) });
    // @ts-expect-error index is reserved
    pipe([1]).map((x) => x, { onStart: () => ({ index: [0] }) });
    // @ts-expect-error stage is reserved
    pipe([1]).map((x) => x, { onStart: () => ({ stage: "mine" }) });
    // @ts-expect-error reserved keys are rejected from an async onStart too
    pipe([1]).map((x) => x, { onStart: async () => ({ stage: "mine" }) });
    // @ts-expect-error and from an onStart with an annotated parameter
    pipe([1]).map((x) => x, { onStart: async (info: HookInfo) => ({ signal: info.signal }) });
  });
});

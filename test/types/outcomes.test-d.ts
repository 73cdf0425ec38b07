import { describe, expectTypeOf, it } from "vitest";
import { z } from "zod";
import {
  ElementError,
  ElementErrors,
  pipe,
  type ErrorPolicy,
  type HookInfo,
  type Pipeline,
  type RetryOptions,
  type RunResult,
  type SchemaOutput,
  type StageOptions,
} from "@sluice/dsl";
import type { ERROR_POLICIES, StageSettings } from "@sluice/core";

const User = z.object({ id: z.number(), name: z.string() });
type User = z.infer<typeof User>;

describe("element outcomes, typed", () => {
  it("parse(schema) narrows the element type to the schema's output", () => {
    const unknownJson: unknown[] = [];
    expectTypeOf(pipe(unknownJson).parse(User)).toEqualTypeOf<Pipeline<User>>();
    expectTypeOf(pipe(["1"]).parse(z.coerce.number())).toEqualTypeOf<Pipeline<number>>();
    expectTypeOf<SchemaOutput<typeof User>>().toEqualTypeOf<User>();
    // @ts-expect-error: not a Standard Schema
    pipe([1]).parse({ parse: () => 1 });
  });

  it("ctx.attempt is a number; onError handlers get an ElementError", () => {
    pipe([1]).map(
      (x, ctx) => {
        expectTypeOf(ctx.attempt).toEqualTypeOf<number>();
        return x;
      },
      {
        onError: (failure) => {
          expectTypeOf(failure).toEqualTypeOf<ElementError>();
          expectTypeOf(failure.attempts).toEqualTypeOf<number>();
        },
      },
    );
    pipe([1]).map((x) => x, { onError: async () => undefined });
  });

  it("shouldRetry, delay and onError handlers get the stage's HookInfo (the run's signal) last", () => {
    pipe([1]).map((x) => x, {
      retry: {
        retries: 2,
        shouldRetry: (_error, attempt, info) => {
          expectTypeOf(attempt).toEqualTypeOf<number>();
          expectTypeOf(info).toEqualTypeOf<HookInfo>();
          expectTypeOf(info.signal).toEqualTypeOf<AbortSignal>();
          return true;
        },
        delay: (_error, _attempt, { signal }) => (signal.aborted ? undefined : 100),
      },
      onError: async (_failure, info) => {
        expectTypeOf(info.stage).toEqualTypeOf<string>();
        await fetch("https://example.com/alerts", { method: "POST", signal: info.signal });
      },
    });
  });

  it("toResult() gives the results and the errors", () => {
    expectTypeOf(pipe([1]).map(String).toResult()).toEqualTypeOf<Promise<RunResult<string>>>();
    expectTypeOf<RunResult<string>["errors"]>().toEqualTypeOf<ElementError[]>();
    expectTypeOf<ElementErrors<string>["results"]>().toEqualTypeOf<string[]>();
  });

  it("the same mistakes the checks reject do not compile", () => {
    // @ts-expect-error: not a policy
    pipe([1]).map((x) => x, { onError: "ignore" });
    // @ts-expect-error: retries must be a number
    pipe([1]).map((x) => x, { retry: { retries: "3" } });
    // @ts-expect-error: retries is required in the object form
    pipe([1]).map((x) => x, { retry: { minDelay: 5 } });
    // @ts-expect-error: an unknown retry field
    pipe([1]).map((x) => x, { retry: { retries: 1, backoff: 2 } });
    // @ts-expect-error: jitter is "full" or "none"
    pipe([1]).map((x) => x, { retry: { retries: 1, jitter: "half" } });
    // @ts-expect-error: shouldRetry is a function
    pipe([1]).map((x) => x, { retry: { retries: 1, shouldRetry: true } });
    // @ts-expect-error: attempt is the engine's ctx key
    pipe([1]).map((x) => x, { onStart: () => ({ attempt: 1 }) });
    // @ts-expect-error: maxErrors is a number
    void pipe([1]).toArray({ maxErrors: "5" });
    const retry: RetryOptions = { retries: 2, delay: () => undefined, shouldRetry: async () => true };
    const options: StageOptions = { retry, onError: "collect" };
    expectTypeOf(options.onError).toEqualTypeOf<ErrorPolicy | undefined>();
  });

  it("onError's named policies are core's", () => {
    expectTypeOf<(typeof ERROR_POLICIES)[number] | ((failure: ElementError, info: HookInfo) => void | PromiseLike<void>)>().toEqualTypeOf<
      StageSettings["onError"]
    >();
    expectTypeOf<NonNullable<StageOptions["onError"]>>().toEqualTypeOf<StageSettings["onError"]>();
  });
});

/**
 * The words core and dsl share are defined once, in core, and the dsl derives its own from
 * them; these tests tie each pair, so adding a stage kind, a timeout policy, a context key or
 * a stage option without updating the other side fails to compile.
 */
import { describe, expectTypeOf, it } from "vitest";
import {
  JITTER_MODES,
  RESERVED_CONTEXT_KEYS,
  STAGE_KINDS,
  TIMEOUT_POLICIES,
  type EngineContext as CoreEngineContext,
  type HookInfo as CoreHookInfo,
  type RetrySettings,
  type StageKind,
  type StageSettings,
  type TimeoutPolicy,
} from "@sluice/core";
import type { EngineContext, FallbackOptions, HookInfo, RetryOptions, StageMethod, StageOptions } from "@sluice/dsl";
// Internal, not exported (public declarations never mention zod), so imported from its module.
import type { retryOptionsSchema, stageOptionsSchema } from "../../packages/dsl/src/options-schema.js";

describe("one vocabulary for core and dsl", () => {
  it("the dsl's stage methods are core's stage kinds", () => {
    expectTypeOf<StageMethod>().toEqualTypeOf<StageKind>();
    expectTypeOf<(typeof STAGE_KINDS)[number]>().toEqualTypeOf<StageKind>();
  });

  it("onTimeout takes exactly core's timeout policies, in the types and in the schema", () => {
    expectTypeOf<NonNullable<StageOptions["onTimeout"]>>().toEqualTypeOf<TimeoutPolicy>();
    expectTypeOf<NonNullable<ReturnType<(typeof stageOptionsSchema)["parse"]>["onTimeout"]>>().toEqualTypeOf<TimeoutPolicy>();
    expectTypeOf<(typeof TIMEOUT_POLICIES)[number]>().toEqualTypeOf<StageSettings["onTimeout"]>();
  });

  it("retry.jitter takes exactly core's jitter modes, in the types and in the schema", () => {
    expectTypeOf<NonNullable<RetryOptions["jitter"]>>().toEqualTypeOf<(typeof JITTER_MODES)[number]>();
    expectTypeOf<NonNullable<ReturnType<(typeof retryOptionsSchema)["parse"]>["jitter"]>>().toEqualTypeOf<(typeof JITTER_MODES)[number]>();
    expectTypeOf<RetrySettings["jitter"]>().toEqualTypeOf<(typeof JITTER_MODES)[number]>();
  });

  it("the engine's ctx keys are the reserved context keys", () => {
    expectTypeOf<keyof EngineContext>().toEqualTypeOf<(typeof RESERVED_CONTEXT_KEYS)[number]>();
    expectTypeOf<EngineContext>().toEqualTypeOf<CoreEngineContext>();
    expectTypeOf<HookInfo>().toEqualTypeOf<CoreHookInfo>();
  });

  it("the dsl's options, its schema and core's settings have the same keys", () => {
    // fallback is a stage setting that only map and tap take, so it is declared apart (FallbackOptions).
    expectTypeOf<keyof StageOptions | keyof FallbackOptions<unknown, unknown>>().toEqualTypeOf<keyof StageSettings>();
    expectTypeOf<keyof (typeof stageOptionsSchema)["shape"]>().toEqualTypeOf<keyof StageSettings>();
  });

  it("retry's options, its schema and core's retry settings have the same keys", () => {
    expectTypeOf<keyof RetryOptions>().toEqualTypeOf<keyof RetrySettings>();
    expectTypeOf<keyof (typeof retryOptionsSchema)["shape"]>().toEqualTypeOf<keyof RetrySettings>();
  });
});

import { OptionsError, ValidationError, isPromiseLike, type ValidationIssue } from "@sluice/core";

/**
 * A validator that implements [Standard Schema](https://standardschema.dev) v1, the interface
 * zod 4, valibot, arktype and others share: `pipeline.parse(schema)` takes any of them, with
 * no dependency on one. Only the parts sluice reads are described here.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * const User = z.object({ id: z.number(), name: z.string() });
 * const schema: StandardSchema<unknown, { id: number; name: string }> = User;
 * ```
 */
export interface StandardSchema<Input = unknown, Output = Input> {
  /** The Standard Schema properties. */
  readonly "~standard": StandardSchemaProps<Input, Output>;
}

/**
 * The properties under a {@link StandardSchema}'s `~standard` key.
 *
 * @example
 * ```ts
 * const props: StandardSchemaProps<unknown, number> = z.number()["~standard"];
 * ```
 */
export interface StandardSchemaProps<Input = unknown, Output = Input> {
  /** Always 1. */
  readonly version: 1;
  /** The library behind the schema (`"zod"`, `"valibot"`...). */
  readonly vendor: string;
  /** Checks a value: its output, or the issues found; sync or async. */
  readonly validate: (value: unknown) => StandardResult<Output> | Promise<StandardResult<Output>>;
  /** Carries the input and output types, for inference only. */
  readonly types?: StandardTypes<Input, Output> | undefined;
}

/**
 * The types a {@link StandardSchema} carries for inference (never present at run time).
 *
 * @example
 * ```ts
 * type Out = StandardTypes<string, number>["output"]; // number
 * ```
 */
export interface StandardTypes<Input, Output> {
  /** What the schema accepts. */
  readonly input: Input;
  /** What it emits. */
  readonly output: Output;
}

/**
 * What a {@link StandardSchema}'s `validate` returns: the validated output, or issues.
 *
 * @example
 * ```ts
 * const ok: StandardResult<number> = { value: 1 };
 * const bad: StandardResult<number> = { issues: [{ message: "Expected number" }] };
 * ```
 */
export type StandardResult<Output> = StandardSuccess<Output> | StandardFailure;

/**
 * A valid value's result.
 *
 * @example
 * ```ts
 * const ok: StandardSuccess<number> = { value: 1 };
 * ```
 */
export interface StandardSuccess<Output> {
  /** The validated (and possibly transformed) value. */
  readonly value: Output;
  /** Absent on success. */
  readonly issues?: undefined;
}

/**
 * An invalid value's result.
 *
 * @example
 * ```ts
 * const bad: StandardFailure = { issues: [{ message: "Required", path: ["id"] }] };
 * ```
 */
export interface StandardFailure {
  /** What is wrong with the value. */
  readonly issues: readonly ValidationIssue[];
}

/**
 * The type of the elements a schema emits (its output type).
 *
 * @example
 * ```ts
 * const User = z.object({ id: z.coerce.number() });
 * type User = SchemaOutput<typeof User>; // { id: number }
 * ```
 */
export type SchemaOutput<S extends StandardSchema> = NonNullable<S["~standard"]["types"]>["output"];

type Validate = StandardSchema["~standard"]["validate"];
type ParseContext = { readonly stage: string; readonly index: readonly number[] };

/**
 * The `f` of a parse stage: the schema's output for a valid element, else a
 * `ValidationError` (thrown, or a rejection for an async schema) that `onError` handles.
 */
export function validatorOf(schema: unknown): (value: unknown, ctx: ParseContext) => unknown {
  const standard = (schema as Partial<StandardSchema> | null | undefined)?.["~standard"];
  if (typeof standard !== "object" || standard === null || standard.version !== 1 || typeof standard.validate !== "function") {
    throw OptionsError.invalid("parse", ["schema"], "a Standard Schema v1 validator, such as a zod 4, valibot or arktype schema", schema);
  }
  const validate: Validate = standard.validate.bind(standard);
  return (value, ctx) => {
    const result = validate(value);
    // A thenable, not instanceof Promise: a validator may answer with a promise of another realm.
    return isPromiseLike(result) ? Promise.resolve(result).then((settled) => outputOf(settled, value, ctx)) : outputOf(result, value, ctx);
  };
}

function outputOf(result: StandardResult<unknown>, value: unknown, ctx: ParseContext): unknown {
  if (result.issues !== undefined) throw new ValidationError(result.issues, ctx.stage, ctx.index, value);
  return result.value;
}

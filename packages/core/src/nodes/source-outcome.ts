// The contract between a settling source and the engine: declared beside the source node
// that holds a `settle`, so nodes/ needs nothing from run/ (run/settlement.ts implements it).

/**
 * What became of one source element, as a source's `settle` callback learns it:
 * `"done"` when every element derived from it was delivered to the consumer (by `for await`:
 * asked past, when the loop asks for the next element), filtered out, expanded to nothing or
 * finished by `each`; `"failed"` when one of them failed (the run
 * went on without it, or failed because of it); `"released"` when the run was torn down
 * before it could finish.
 *
 * @example
 * ```ts
 * const settle = (job: Job, outcome: SourceOutcome) => {
 *   if (outcome.status === "failed") console.error(job.id, outcome.error);
 * };
 * ```
 */
export type SourceOutcome =
  | {
      /** Everything derived from the element has finished. */
      readonly status: "done";
    }
  | {
      /** Something derived from the element failed. */
      readonly status: "failed";
      /** What failed it: `f`'s error, or the `TimeoutError` of a skipped call. */
      readonly error: unknown;
    }
  | {
      /** The run was torn down before the element finished. */
      readonly status: "released";
      /** What tore the run down: its error, the signal's reason, or an `AbortError` for a `break` (or a throw in a `for await` body). */
      readonly reason: unknown;
    };

/**
 * A source's acknowledgement callback: called once per element the run took from the
 * source, with what became of it. A returned promise is awaited before the run settles; a
 * throw or a rejection fails the run.
 *
 * @example
 * ```ts
 * const settle: Settle<Message> = async (message, outcome) => {
 *   if (outcome.status === "done") await message.ack();
 *   else await message.nack();
 * };
 * ```
 */
export type Settle<T> = (element: T, outcome: SourceOutcome) => void | PromiseLike<void>;

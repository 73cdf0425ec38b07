import type { JetStreamClient } from "@nats-io/jetstream";
import { OptionsError, pathBelowSource, resolveStageOptions, type Context, type Operator, type Pipeline } from "@sluice/dsl";

/**
 * The source message an element derives from, as {@link publish} needs it to name what it
 * publishes: a JetStream `JsMsg` has this shape. A string is a stable id of some other
 * source (a file's line number, a row's key).
 *
 * @example
 * ```ts
 * const origin: MessageOrigin = { info: { stream: "orders", streamSequence: 17 } };
 * ```
 */
export type MessageOrigin = string | SourceMessage;

/**
 * The part of a JetStream message {@link publish} reads to name what derives from it: where
 * the message is stored. A `JsMsg` has it.
 *
 * @example
 * ```ts
 * const message: SourceMessage = { info: { stream: "orders", streamSequence: 17 } };
 * ```
 */
export interface SourceMessage {
  /** Where the message is stored. */
  readonly info: {
    /** The stream's name. */
    readonly stream: string;
    /** The message's sequence in the stream. */
    readonly streamSequence: number;
  };
}

/**
 * Options of {@link publish}.
 *
 * @example
 * ```ts
 * const options: PublishOptions<{ message: JsMsg; invoice: Invoice }> = {
 *   origin: (x) => x.message,
 *   data: (x) => JSON.stringify(x.invoice),
 * };
 * ```
 */
export interface PublishOptions<T> {
  /** The source message (or a stable id) the element derives from: its place in the stream makes the message id. */
  readonly origin: (value: T) => MessageOrigin;
  /** The payload published for an element; default: a string or `Uint8Array` element as it is, anything else as JSON. */
  readonly data?: ((value: T) => string | Uint8Array) | undefined;
  /**
   * Publishes in flight at once: an integer >= 1, checked as a stage's `workers`.
   * @default 8
   */
  readonly workers?: number | undefined;
}

/** The `workers` of a publish stage that names none: publishes are I/O, so more than a stage's one. */
const DEFAULT_WORKERS = 8;

/**
 * A sink stage that publishes one message per element to JetStream on `subject` (a subject,
 * or a function of the element giving it), with a `Nats-Msg-Id` made from the source message
 * and the element's place in what derives from it: the source stream and sequence, the
 * subject and the element's index path below the source message (`pathBelowSource`). So
 * when a source message is delivered again (a later step failed, or its consumer died
 * before acknowledging), the elements it gives again get the same ids, and the stream, which
 * drops a message whose id it has seen within its `duplicate_window` (2 minutes unless the
 * stream says otherwise), does not store them twice. Each publish waits for the stream's
 * acknowledgement; the stage is an `each`, so the source message settles done only once its
 * messages are stored.
 *
 * @example
 * ```ts
 * const js = jetstream(await connect({ servers }));
 * await messages({ stream: "orders", name: "billing" }, { connection: { servers } })
 *   .map(async (message) => ({ message, invoice: await bill(message.json<Order>()) }), { workers: 8 })
 *   .through(publish(js, "invoices.created", { origin: (x) => x.message, data: (x) => JSON.stringify(x.invoice) }))
 *   .run({ signal });
 * ```
 */
export function publish<T>(js: JetStreamClient, subject: string | ((value: T) => string), options: PublishOptions<T>): Operator<T, never> {
  const { workers } = resolveStageOptions("publish", { workers: options.workers ?? DEFAULT_WORKERS });
  if (typeof options.origin !== "function") throw OptionsError.invalid("publish", ["options", "origin"], "a function", options.origin);
  if (options.data !== undefined && typeof options.data !== "function") throw OptionsError.invalid("publish", ["options", "data"], "a function", options.data);
  if (typeof subject !== "function" && (typeof subject !== "string" || subject === "")) {
    throw OptionsError.invalid("publish", ["subject"], "a non-empty string or a function", subject);
  }
  const subjectOf = typeof subject === "function" ? subject : () => subject;
  const dataOf = options.data ?? encode;
  return (pipeline: Pipeline<T>) =>
    pipeline.each(
      async (value: T, ctx: Context<object>) => {
        const to = subjectOf(value);
        const msgID = messageIdFor(options.origin(value), to, pathBelowSource(pipeline, ctx.index));
        await js.publish(to, dataOf(value), { msgID });
      },
      { workers, name: `publish(${typeof subject === "string" ? subject : "subject(x)"})` },
    );
}

/**
 * The `Nats-Msg-Id` {@link publish} gives the message published for an element: the source
 * stream and sequence (or the string origin), the subject, and `below`, the element's index
 * path below the source message (what `pathBelowSource` gives), joined by `/`; `%` and `/`
 * in the stream name, the string origin and the subject are escaped (`%25`, `%2F`), so no
 * two different sources share an id.
 *
 * @example
 * ```ts
 * messageIdFor({ info: { stream: "orders", streamSequence: 17 } }, "invoices.created", [2]); // "orders/17/invoices.created/2"
 * messageIdFor("line-9", "rows", []); // "line-9/rows"
 * ```
 */
export function messageIdFor(origin: MessageOrigin, subject: string, below: readonly number[]): string {
  const source = typeof origin === "string" ? escapePart(origin) : `${escapePart(origin.info.stream)}/${origin.info.streamSequence}`;
  const path = below.length === 0 ? "" : `/${below.join(".")}`;
  return `${source}/${escapePart(subject)}${path}`;
}

function escapePart(part: string): string {
  return part.replace(/[%/]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function encode(value: unknown): string | Uint8Array {
  return typeof value === "string" || value instanceof Uint8Array ? value : JSON.stringify(value);
}

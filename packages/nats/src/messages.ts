import type { JsMsg } from "@nats-io/jetstream";
import type { NodeConnectionOptions } from "@nats-io/transport-node";
import { OptionsError, maxTimerDelay, source, type Pipeline } from "@sluice/dsl";
import type { ConsumerError, NatsConnectionError } from "./errors.js";
import { MessageFeed, type FeedSettings, type HeldMessages } from "./message-feed.js";

/**
 * The durable pull consumer {@link messages} takes its messages from.
 *
 * @example
 * ```ts
 * const consumer: ConsumerName = { stream: "orders", name: "billing" };
 * ```
 */
export interface ConsumerName {
  /** The stream the consumer belongs to. */
  readonly stream: string;
  /** The consumer's durable name. */
  readonly name: string;
}

/**
 * Options of {@link messages}.
 *
 * @example
 * ```ts
 * const options: MessageSourceOptions = {
 *   connection: { servers: "127.0.0.1:4222" },
 *   prefetch: 64,
 *   retryDelay: (deliveryCount) => 1_000 * 2 ** (deliveryCount - 1),
 * };
 * ```
 */
export interface MessageSourceOptions {
  /** Where the NATS server is and how to log in: the options of `connect()` from `@nats-io/transport-node`. Each run opens its own connection. */
  readonly connection: NodeConnectionOptions;
  /**
   * How many messages a run fetches ahead of what the pipeline has taken; default 64. The
   * run pulls messages on demand, never more than this beyond what its stages hold, and the
   * consumer's `max_ack_pending` caps what the server sends unacknowledged across all runs.
   */
  readonly prefetch?: number | undefined;
  /**
   * The delay of the `nak` of a failed message before the server sends it again, in ms: a
   * number, or a function of the message's delivery count (1 on the first delivery) and the
   * error. Default 0: redelivered at once. Once the consumer's `max_deliver` is used up the
   * message is `term`ed instead.
   */
  readonly retryDelay?: number | ((deliveryCount: number, error: unknown) => number) | undefined;
  /**
   * How long a run waits to connect, in milliseconds, before it fails with a
   * {@link NatsConnectionError} (no server there, a wrong address). The client does not
   * retry a first connection that fails.
   *
   * @default 10_000
   */
  readonly connectTimeout?: number | undefined;
}

/** The default of {@link MessageSourceOptions.connectTimeout}, in milliseconds. */
const DEFAULT_CONNECT_TIMEOUT = 10_000;
/** The default of {@link MessageSourceOptions.prefetch}. */
const DEFAULT_PREFETCH = 64;

const OPTION_KEYS = ["connection", "prefetch", "retryDelay", "connectTimeout"];

/**
 * A source of the messages of a JetStream durable pull consumer, each acknowledged once
 * everything derived from it has finished (at-least-once): when the pipeline is done with a
 * message it is `ack`ed; when an element derived from it fails it is `nak`ed (after
 * `retryDelay`) so the server sends it again, or `term`ed once the consumer's `max_deliver`
 * is used up; when the run is torn down (an abort, a `break`, a failure elsewhere) it is
 * `nak`ed at once for the next consumer (a delivery used). On a drain (the `drain` run
 * option) the run fetches nothing more, gives back what it fetched but never handed out, and
 * acknowledges each message its stages finish. While a message is held longer
 * than a third of the consumer's `ack_wait`, the run sends `working()` for it, so a long
 * call does not make the server send it again elsewhere.
 *
 * Each run opens its own connection when the source is first pulled and closes it, once
 * every acknowledgement has been sent, before the run settles. A server not reached within
 * `connectTimeout` fails the run with a {@link NatsConnectionError}; a stream or consumer
 * that does not exist (or a push consumer) with a {@link ConsumerError}. Run the same
 * pipeline in more processes to share a consumer's messages. Messages are fetched on demand:
 * a run holds at most `prefetch` messages beyond what its stages took.
 *
 * @example
 * ```ts
 * import { messages } from "@sluice/nats";
 *
 * const drain = new AbortController();
 * process.once("SIGTERM", () => drain.abort());
 * await messages({ stream: "uploads", name: "thumbnails" }, { connection: { servers: "127.0.0.1:4222" } })
 *   .map((message) => makeThumbnail(message.json<{ key: string }>().key), { workers: 16 })
 *   .run({ drain: drain.signal });
 * ```
 */
export function messages(consumer: ConsumerName, options: MessageSourceOptions): Pipeline<JsMsg> {
  const settings = resolveSettings(consumer, options);
  const held: HeldMessages = new WeakMap();
  // A run's feed is made by the stage's onStart (so its onDone can finish it) and taken by
  // the source factory, which the run calls right after every stage's start, synchronously.
  const starting: MessageFeed[] = [];
  return source<JsMsg>(() => starting.shift()!, {
    settle: (message, outcome) => held.get(message)?.settle(message, outcome),
  }).map((message) => message, {
    name: `messages(${settings.label})`,
    onStart: () => {
      const feed = new MessageFeed(held, settings);
      starting.push(feed);
      return { feed };
    },
    onDone: ({ feed }) => {
      // A run torn down before its source started never took this feed.
      const index = starting.indexOf(feed);
      if (index >= 0) starting.splice(index, 1);
      return feed.finish();
    },
  });
}

function resolveSettings(consumer: ConsumerName, options: MessageSourceOptions): FeedSettings {
  if (consumer === null || typeof consumer !== "object" || !isName(consumer.stream) || !isName(consumer.name)) {
    throw OptionsError.invalid("messages", ["consumer"], "{ stream, name } with two non-empty strings", consumer);
  }
  if (options === null || typeof options !== "object") throw OptionsError.invalid("messages", ["options"], "an object with a connection", options);
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.includes(key)) throw OptionsError.notAnOption("messages", ["options", key], OPTION_KEYS, (options as unknown as Record<string, unknown>)[key]);
  }
  if (options.connection === null || typeof options.connection !== "object") {
    throw OptionsError.invalid("messages", ["options", "connection"], "the connect() options of @nats-io/transport-node", options.connection);
  }
  const prefetch = options.prefetch ?? DEFAULT_PREFETCH;
  if (!Number.isInteger(prefetch) || prefetch < 1) throw OptionsError.invalid("messages", ["options", "prefetch"], "an integer >= 1", prefetch);
  const connectTimeout = options.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT;
  // A timer's longest wait bounds it too: setTimeout runs a longer one after 1 ms.
  if (typeof connectTimeout !== "number" || !(connectTimeout > 0 && connectTimeout <= maxTimerDelay)) {
    throw OptionsError.invalid("messages", ["options", "connectTimeout"], `a number of milliseconds > 0 (at most ${maxTimerDelay})`, connectTimeout);
  }
  return {
    label: `${consumer.stream}/${consumer.name}`,
    stream: consumer.stream,
    consumer: consumer.name,
    connection: options.connection,
    connectTimeout,
    prefetch,
    retryDelay: resolveRetryDelay(options.retryDelay),
  };
}

function resolveRetryDelay(given: MessageSourceOptions["retryDelay"]): FeedSettings["retryDelay"] {
  const check = (delay: unknown): number => {
    if (typeof delay !== "number" || !(delay >= 0 && delay <= maxTimerDelay)) {
      throw OptionsError.invalid("messages", ["options", "retryDelay"], `a number of milliseconds >= 0 (at most ${maxTimerDelay})`, delay);
    }
    return delay;
  };
  if (given === undefined) return () => 0;
  if (typeof given === "function") return (count, error) => check(given(count, error));
  const delay = check(given);
  return () => delay;
}

function isName(name: unknown): boolean {
  return typeof name === "string" && name !== "";
}


import { jetstream, type Consumer, type ConsumerConfig, type ConsumerMessages, type JsMsg } from "@nats-io/jetstream";
import { connect, type NatsConnection, type NodeConnectionOptions } from "@nats-io/transport-node";
import type { SourceOutcome } from "@sluice/dsl";
import { ConsumerError, NatsConnectionError } from "./errors.js";

/** What a feed needs to connect and take messages; resolved and checked by `messages()`. */
export interface FeedSettings {
  /** `stream/consumer`, for messages. */
  readonly label: string;
  readonly stream: string;
  readonly consumer: string;
  readonly connection: NodeConnectionOptions;
  readonly connectTimeout: number;
  readonly prefetch: number;
  /** The delay of the `nak` of a failed message, from its delivery count and the error. */
  readonly retryDelay: (deliveryCount: number, error: unknown) => number;
}

/** Finds the feed that holds a message, from the element `settle` receives (the message itself). */
export type HeldMessages = WeakMap<JsMsg, MessageFeed>;

/**
 * The longest wait of one pull request on an idle stream before the next is sent, in ms (the
 * client's minimum). A run that stops while its request is open gives messages back only once
 * the request has expired on the server (see `#release`): at most this much later.
 */
const FETCH_EXPIRES = 1_000;
/** Added to a request's expiry before a nak is safe, for the clocks of client and server. */
const EXPIRY_MARGIN = 100;

/**
 * One run's messages from a durable pull consumer. Messages are pulled on demand with
 * `fetch()` requests, so the feed never holds more than `prefetch` messages that the
 * pipeline has not taken: when the pipeline stops pulling, the feed stops fetching once that
 * buffer is full, and after `stop()` it fetches nothing more. Every message taken from the
 * server is open until it settles (or is given back by `stop()`), and while open it is kept
 * from redelivery by `working()`, sent to every open message older than a third of the
 * consumer's `ack_wait` once per such third.
 *
 * As an async iterator it yields the messages in the order they arrived. `finish()` (the
 * run is ending) stops fetching, gives back (`nak`) the messages not yet taken, and closes
 * the connection once every open message has settled: the promise of the last settlement,
 * or of `finish()` itself when none is open, resolves when the connection has flushed its
 * acknowledgements and closed.
 *
 * A drain (the run stops pulling but lets what it took finish) calls `return()`, which is
 * `stop()`; the messages handed out then settle one by one, and the last settlement closes
 * the connection (docs/design.md §25).
 */
export class MessageFeed implements AsyncIterableIterator<JsMsg> {
  readonly #settings: FeedSettings;
  readonly #held: HeldMessages;
  /** Connected and bound to the consumer; started by the first `next()`. */
  #ready: Promise<Consumer> | null = null;
  #connection: NatsConnection | null = null;
  #maxDeliver = -1;
  /** Messages fetched and not yet given to the pipeline. */
  readonly #buffer: JsMsg[] = [];
  /** Every open message (buffered or taken), with the working tick it arrived in. */
  readonly #open = new Map<JsMsg, number>();
  /** A `#fetch()` has not ended (0 or 1). */
  #fetching = 0;
  /** The pull request under way, to be cut short by `stop()`. */
  #batch: ConsumerMessages | null = null;
  /** Until when (ms, `Date.now()`) a pull request of this run may be open on the server. */
  #openUntil = 0;
  /** Acknowledgements waiting for the end of this turn of the event loop (see `#ack`). */
  readonly #acks: JsMsg[] = [];
  /** Messages to give back once no pull request of this run is open (see `#release`). */
  readonly #toRelease: JsMsg[] = [];
  #releaseTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  /** Resolves `#close()`'s wait once nothing is left to give back. */
  #onQuiet: (() => void) | null = null;
  /** A `next()` waiting for a message. */
  #waiting: ((result: IteratorResult<JsMsg>) => void) | null = null;
  #waitingFailed: ((error: unknown) => void) | null = null;
  /** The run must fail with this; given to the next `next()`. */
  #failure: unknown = null;
  /** The run is failing (`#fail`): nothing more is fetched. */
  #broken = false;
  #tick = 0;
  #workingTimer: ReturnType<typeof setInterval> | undefined = undefined;
  #stopping = false;
  #closed: Promise<void> | null = null;

  constructor(held: HeldMessages, settings: FeedSettings) {
    this.#held = held;
    this.#settings = settings;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<JsMsg>> {
    const message = this.#buffer.shift();
    if (message !== undefined) {
      this.#pump();
      return Promise.resolve({ done: false, value: message });
    }
    if (this.#failure !== null) {
      const failure = this.#failure;
      this.#failure = null;
      return Promise.reject(failure);
    }
    if (this.#stopping) return Promise.resolve({ done: true, value: undefined });
    if (this.#ready === null) this.#ready = this.#start();
    return new Promise((resolve, reject) => {
      this.#waiting = resolve;
      this.#waitingFailed = reject;
      this.#pump();
    });
  }

  /** The run is torn down, left (`break`) or drained: fetch nothing more (the last settlement, or `finish()`, closes). */
  async return(): Promise<IteratorResult<JsMsg>> {
    this.stop();
    return { done: true, value: undefined };
  }

  /**
   * The run is ending: stop fetching, give back what was not taken, and resolve once the
   * connection is closed when no message is open (else the last settlement's promise does).
   */
  finish(): Promise<void> | undefined {
    this.stop();
    return this.#open.size === 0 ? this.#close() : undefined;
  }

  /** Stops fetching: no new pull request is sent, and the messages not taken are given back. */
  stop(): void {
    if (this.#stopping) return;
    this.#stopping = true;
    // The client stops listening at once; the server keeps the request until it expires.
    this.#batch?.stop();
    for (const message of this.#buffer.splice(0)) {
      this.#forget(message);
      this.#release(message);
    }
    const waiting = this.#waiting;
    if (waiting !== null) {
      this.#waiting = null;
      this.#waitingFailed = null;
      waiting({ done: true, value: undefined });
    }
  }

  /** Acknowledges `message` as `outcome` says. */
  settle(message: JsMsg, outcome: SourceOutcome): Promise<void> | undefined {
    this.#forget(message);
    switch (outcome.status) {
      case "done":
        this.#ack(message);
        break;
      case "failed":
        this.#failed(message, outcome.error);
        break;
      case "released":
        this.#release(message);
        break;
    }
    if (this.#stopping && this.#open.size === 0) return this.#close();
    this.#pump();
    return undefined;
  }

  /**
   * Acknowledges `message` with the others settled in the same turn of the event loop: the
   * client writes what is sent within one microtask burst in one socket write, and the
   * pipeline's settlements come spread over several bursts, so one write per ack would
   * otherwise cost more than the rest of a message's way through the run.
   */
  #ack(message: JsMsg): void {
    this.#acks.push(message);
    if (this.#acks.length === 1) setImmediate(this.#sendAcks);
  }

  readonly #sendAcks = (): void => {
    for (const message of this.#acks.splice(0)) message.ack();
  };

  /** `term()` once the consumer's `max_deliver` is used up (the server would not send it again), else `nak(delay)`. */
  #failed(message: JsMsg, error: unknown): void {
    const count = message.info.deliveryCount;
    if (this.#maxDeliver > 0 && count >= this.#maxDeliver) {
      message.term(`failed on delivery ${count} of ${this.#maxDeliver}: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    const delay = this.#settings.retryDelay(count, error);
    if (delay > 0) message.nak(delay);
    else message.nak();
  }

  /**
   * Gives `message` back (`nak`). While a pull request that this run cut short may still be
   * open on the server, the nak waits until the request has expired: nats-server 2.9 sends a
   * nak'ed message to any open request of the consumer, even one nobody listens to any more,
   * and the message would then sit unacknowledged until `ack_wait`. (New messages do not go
   * to such a request; only redeliveries do.) A request that ended on its own (all its
   * messages came, or it expired) is closed, and its fetch's end sends what waited.
   */
  #release(message: JsMsg): void {
    if (this.#fetching === 0 && this.#openUntil <= Date.now()) {
      message.nak();
      return;
    }
    this.#toRelease.push(message);
    this.#releaseWhenClosed();
  }

  /** Sends the waiting naks once no request of this run is open, and says so to `#close()`. */
  #releaseWhenClosed(): void {
    if (this.#fetching > 0 || this.#releaseTimer !== undefined) return;
    this.#releaseTimer = setTimeout(() => {
      this.#releaseTimer = undefined;
      for (const message of this.#toRelease.splice(0)) message.nak();
      this.#onQuiet?.();
    }, Math.max(0, this.#openUntil - Date.now()));
  }

  #forget(message: JsMsg): void {
    this.#open.delete(message);
    this.#held.delete(message);
  }

  // ---- the server's side -------------------------------------------------------------

  async #start(): Promise<Consumer> {
    const { connection, connectTimeout, stream, consumer: name } = this.#settings;
    let nc: NatsConnection;
    try {
      nc = await withTimeout(connect({ ...connection, timeout: connectTimeout }), connectTimeout);
    } catch (error) {
      const address = String(connection.servers ?? "127.0.0.1:4222");
      throw this.#fail(new NatsConnectionError(this.#settings.label, address, connectTimeout, error));
    }
    this.#connection = nc;
    let consumer: Consumer;
    let config: ConsumerConfig;
    try {
      consumer = await jetstream(nc).consumers.get(stream, name);
      config = (await consumer.info(true)).config;
    } catch (error) {
      throw this.#fail(consumerError(this.#settings, error));
    }
    this.#maxDeliver = config.max_deliver ?? -1;
    // ack_wait is in nanoseconds; working() goes out within two thirds of it.
    const third = Math.max(1, Math.floor((config.ack_wait ?? 30e9) / 3e6));
    if (!this.#stopping) this.#workingTimer = setInterval(() => this.#working(), third);
    return consumer;
  }

  /** Sends `working()` for every open message that arrived before the last tick. */
  #working(): void {
    const before = this.#tick++;
    for (const [message, tick] of this.#open) {
      if (tick < before) message.working();
    }
  }

  /**
   * Asks for more messages when no request is under way and the buffer leaves room. One
   * request at a time: the server shares messages out among a client's open requests, and
   * two requests' messages would reach the pipeline out of stream order.
   */
  #pump(): void {
    if (this.#stopping || this.#ready === null || this.#fetching > 0 || this.#broken) return;
    const room = this.#settings.prefetch - this.#buffer.length;
    if (room <= 0) return;
    this.#fetching++;
    void this.#fetch(room);
  }

  async #fetch(count: number): Promise<void> {
    let consumer: Consumer;
    try {
      consumer = await this.#ready!;
    } catch {
      // #start() has recorded its failure: the run fails, nothing more to fetch.
      this.#fetching--;
      return;
    }
    let failed = false;
    try {
      if (this.#stopping) return;
      this.#openUntil = Date.now() + FETCH_EXPIRES + EXPIRY_MARGIN;
      this.#batch = await consumer.fetch({ max_messages: count, expires: FETCH_EXPIRES });
      // stop() came while the request was being sent.
      if (this.#stopping) this.#batch.stop();
      for await (const message of this.#batch) {
        this.#arrive(message);
      }
      // Ended by the server (every message came, or it expired), not cut short by stop().
      if (!this.#stopping) this.#openUntil = 0;
    } catch {
      failed = true;
    } finally {
      this.#fetching--;
      this.#batch = null;
    }
    if (this.#stopping) {
      if (this.#toRelease.length > 0) this.#releaseWhenClosed();
      else this.#onQuiet?.();
    } else if (failed) {
      void this.#recover(consumer);
    } else {
      this.#pump();
    }
  }

  /**
   * After a failed pull request: the client gives one up when two of the server's heartbeats
   * are missed (a reconnect, a long stall), which is no reason to end the run. The run fails
   * only when the consumer cannot be read any more (deleted, or the connection closed for
   * good); else fetching goes on.
   */
  async #recover(consumer: Consumer): Promise<void> {
    try {
      await consumer.info();
    } catch (error) {
      this.#fail(consumerError(this.#settings, error));
      return;
    }
    this.#pump();
  }

  #arrive(message: JsMsg): void {
    if (this.#stopping) {
      // Came in after the run stopped fetching: straight back.
      this.#release(message);
      return;
    }
    this.#held.set(message, this);
    this.#open.set(message, this.#tick);
    const waiting = this.#waiting;
    if (waiting !== null) {
      this.#waiting = null;
      this.#waitingFailed = null;
      waiting({ done: false, value: message });
    } else {
      this.#buffer.push(message);
    }
  }

  /** The run must fail with `error`: the waiting `next()` rejects, or the next one. Returns `error`. */
  #fail(error: unknown): unknown {
    this.#broken = true;
    const reject = this.#waitingFailed;
    if (reject !== null) {
      this.#waiting = null;
      this.#waitingFailed = null;
      reject(error);
    } else if (this.#failure === null) {
      this.#failure = error;
    }
    return error;
  }

  /** Flushes the acknowledgements and closes the connection, once. */
  #close(): Promise<void> {
    this.#closed ??= (async () => {
      clearInterval(this.#workingTimer);
      // A start under way (or failed) must come to rest before its connection is closed.
      await this.#ready?.catch(() => undefined);
      if (this.#fetching > 0 || this.#toRelease.length > 0) await new Promise<void>((resolve) => (this.#onQuiet = resolve));
      const nc = this.#connection;
      this.#sendAcks();
      if (nc === null || nc.isClosed()) return;
      await nc.flush().catch(() => undefined);
      await nc.close();
    })();
    return this.#closed;
  }
}

/** `promise`, or a rejection after `ms` (its value, should it come later, is closed). */
function withTimeout(promise: Promise<NatsConnection>, ms: number): Promise<NatsConnection> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`no connection after ${ms} ms`));
      promise.then((nc) => nc.close(), () => undefined);
    }, ms);
    promise.then(
      (nc) => {
        clearTimeout(timer);
        resolve(nc);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** The server's answer to a consumer look-up, as a {@link ConsumerError}. */
function consumerError(settings: FeedSettings, error: unknown): ConsumerError {
  const { stream, consumer } = settings;
  const text = error instanceof Error ? error.message : String(error);
  if (/stream not found/i.test(text)) return new ConsumerError(stream, consumer, `the stream ${stream} does not exist`, error);
  if (/not a pull consumer/i.test(text)) return pushConsumer(stream, consumer);
  if (/consumer not found/i.test(text)) {
    return new ConsumerError(stream, consumer, `the consumer ${consumer} of stream ${stream} does not exist (create it first: a durable pull consumer)`, error);
  }
  return new ConsumerError(stream, consumer, `the consumer ${consumer} of stream ${stream} could not be read: ${text}`, error);
}

function pushConsumer(stream: string, consumer: string): ConsumerError {
  return new ConsumerError(stream, consumer, `the consumer ${consumer} of stream ${stream} is a push consumer (messages() takes a pull consumer)`);
}

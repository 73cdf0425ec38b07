/**
 * The error a {@link messages} run fails with when it cannot reach a NATS server within
 * `connectTimeout`: the server is down, the address is wrong, or a firewall drops the
 * connection. The client's own error (`CONNECTION_REFUSED`, a timeout, ...) is the `cause`.
 *
 * @example
 * ```ts
 * try {
 *   await messages({ stream: "orders", name: "workers" }, { connection: { servers: "127.0.0.1:4299" }, connectTimeout: 2_000 }).run();
 * } catch (error) {
 *   if (error instanceof NatsConnectionError) console.error(error.message);
 *   // "messages(orders/workers): could not connect to NATS at 127.0.0.1:4299 within 2000 ms (options.connectTimeout); last error: ..."
 * }
 * ```
 */
export class NatsConnectionError extends Error {
  /** Always `"NatsConnectionError"`. */
  override readonly name = "NatsConnectionError";
  /** The servers the run tried, as given in `connection.servers`. */
  readonly address: string;
  /** How long the run waited, in milliseconds. */
  readonly connectTimeout: number;

  /** Creates the error of the run `label` that found no server at `address` within `connectTimeout` ms; `cause` is the client's error, if any. */
  constructor(label: string, address: string, connectTimeout: number, cause: unknown) {
    const last = cause instanceof Error ? `; last error: ${cause.message}` : "";
    super(`messages(${label}): could not connect to NATS at ${address} within ${connectTimeout} ms (options.connectTimeout)${last}`, { cause });
    this.address = address;
    this.connectTimeout = connectTimeout;
  }
}

/**
 * The error a {@link messages} run fails with when its consumer cannot be used: the stream or
 * the consumer does not exist, or the consumer is a push consumer. The server's answer is
 * the `cause`. Create the consumer (durable, pull, `ack_policy: "explicit"`) before the run.
 *
 * @example
 * ```ts
 * try {
 *   await messages({ stream: "orders", name: "nobody" }, { connection }).run();
 * } catch (error) {
 *   if (error instanceof ConsumerError) console.error(error.message);
 *   // "messages(orders/nobody): the consumer nobody of stream orders does not exist (create it first: a durable pull consumer)"
 * }
 * ```
 */
export class ConsumerError extends Error {
  /** Always `"ConsumerError"`. */
  override readonly name = "ConsumerError";
  /** The stream named in the run's consumer. */
  readonly stream: string;
  /** The consumer's name. */
  readonly consumer: string;

  /** Creates the error for the consumer `consumer` of `stream`, with the reason to print and the server's error as `cause`. */
  constructor(stream: string, consumer: string, reason: string, cause?: unknown) {
    super(`messages(${stream}/${consumer}): ${reason}`, cause === undefined ? undefined : { cause });
    this.stream = stream;
    this.consumer = consumer;
  }
}

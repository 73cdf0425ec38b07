/**
 * The error a {@link jobs} run fails with when its worker cannot reach Redis within
 * `connectTimeout`: Redis is down, the host or port is wrong, or a firewall drops the
 * connection. The last error of the connection (`ECONNREFUSED`, `ETIMEDOUT`, ...) is the
 * `cause`.
 *
 * @example
 * ```ts
 * try {
 *   await jobs("crawl", { connection: { host: "127.0.0.1", port: 6390 }, connectTimeout: 2_000 }).run();
 * } catch (error) {
 *   if (error instanceof ConnectionError) console.error(error.message);
 *   // "jobs(crawl): could not connect to Redis at 127.0.0.1:6390 within 2000 ms (options.connectTimeout); last error: connect ECONNREFUSED 127.0.0.1:6390"
 * }
 * ```
 */
export class ConnectionError extends Error {
  /** Always `"ConnectionError"`. */
  override readonly name = "ConnectionError";
  /** The queue whose jobs the run was to take. */
  readonly queueName: string;
  /** Where Redis was looked for: `host:port`, or `an ioredis instance`. */
  readonly address: string;
  /** How long the run waited, in milliseconds. */
  readonly connectTimeout: number;

  /** Creates the error for a run of `queueName` that found no Redis at `address` within `connectTimeout` ms; `cause` is the connection's last error, if any. */
  constructor(queueName: string, address: string, connectTimeout: number, cause: unknown) {
    const last = cause instanceof Error ? `; last error: ${cause.message}` : "";
    super(`jobs(${queueName}): could not connect to Redis at ${address} within ${connectTimeout} ms (options.connectTimeout)${last}`, { cause });
    this.queueName = queueName;
    this.address = address;
    this.connectTimeout = connectTimeout;
  }
}

/**
 * `@sluice/nats`: sluice pipelines on [NATS JetStream](https://docs.nats.io/nats-concepts/jetstream).
 * {@link messages} is a durable source over a pull consumer whose messages are acknowledged
 * through sluice's source settlement (done: `ack`, failed: `nak` then `term` after
 * `max_deliver`, released: `nak`); {@link publish} is a sink that publishes with
 * de-duplicating message ids. Run the same pipeline in several processes to share a
 * consumer's messages.
 *
 * @example
 * ```ts
 * import { messages } from "@sluice/nats";
 *
 * await messages({ stream: "numbers", name: "squares" }, { connection: { servers: "127.0.0.1:4222" } })
 *   .map((message) => Number(message.string()) ** 2, { workers: 8 })
 *   .each((square) => console.log(square))
 *   .run({ signal });
 * ```
 *
 * @packageDocumentation
 * @module @sluice/nats
 */
export { messages, type ConsumerName, type MessageSourceOptions } from "./messages.js";
export { ConsumerError, NatsConnectionError } from "./errors.js";
export { publish, messageIdFor, type MessageOrigin, type PublishOptions, type SourceMessage } from "./publish.js";

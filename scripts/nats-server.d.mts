/** Resolves when the server at `url` greets a client and has JetStream on; rejects after `limitMs`. */
export declare function waitForNats(url: string, limitMs?: number): Promise<void>;

/** A nats-server started by {@link startNats}. */
export interface LocalNats {
  /** `nats://127.0.0.1:<port>` */
  readonly url: string;
  /** Ends the server and removes its store. */
  stop(): Promise<void>;
}

/** Starts nats-server with JetStream on a free port of 127.0.0.1, its store in a temporary directory. */
export declare function startNats(): Promise<LocalNats>;

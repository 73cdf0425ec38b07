/** Resolves when a PING on `url` is answered with PONG; rejects after `limitMs`. */
export declare function waitForRedis(url: string, limitMs?: number): Promise<void>;

/** A redis-server started by {@link startRedis}. */
export interface LocalRedis {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** Ends the server and removes its directory. */
  stop(): Promise<void>;
}

/** Starts redis-server on a free port of 127.0.0.1, in a temporary directory, without persistence. */
export declare function startRedis(): Promise<LocalRedis>;

/**
 * A service with a capacity knee, for bench scenario I and the adaptive-concurrency tests
 * (docs/behaviour.md §16):
 * a call takes `base` ms when the service is idle, rising steeply with the calls in flight,
 * `(1 + (n / knee) ** 4)` times `base` (twice `base` at the knee), and a call that would make
 * more than `knee` calls in flight is refused at once with a 429. Each latency is off by up
 * to `jitter` of it either way, from a seeded generator (every run is the same). Timers only, so it runs as
 * well on vitest's fake clock as on the real one.
 */
export class SimulatedService {
  /** Calls in flight now. */
  inFlight = 0;
  /** Calls made, and calls refused with a 429. */
  calls = 0;
  refused = 0;
  /** A seeded generator (mulberry32) for the latencies' jitter, so that every run is the same. */
  #seed = 0x5eed;

  constructor(
    /** Calls in flight the service takes before it refuses. */
    public knee: number,
    /** The latency of a call to an idle service, in ms. */
    readonly base = 20,
    /** How long a refusal takes, in ms. */
    readonly refusal = 2,
    /** Each latency is off by up to this fraction, either way, at random. */
    readonly jitter = 0.1,
  ) {}

  #random(): number {
    let t = (this.#seed = (this.#seed + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** The latency of a call that makes `n` calls in flight. */
  latency(n: number): number {
    return this.base * (1 + (n / this.knee) ** 4);
  }

  /** One call: resolves to `value` after the latency, or rejects with a 429 past the knee. */
  call<T>(value: T): Promise<T> {
    this.calls++;
    if (this.inFlight >= this.knee) {
      this.refused++;
      return new Promise((_, reject) => setTimeout(() => reject(Object.assign(new Error("429 Too Many Requests"), { status: 429 })), this.refusal));
    }
    const n = ++this.inFlight;
    return new Promise((resolve) =>
      setTimeout(() => {
        this.inFlight--;
        resolve(value);
      }, this.latency(n) * (1 + this.jitter * (2 * this.#random() - 1))),
    );
  }
}

import type { Producer, Receiver } from "./flow.js";
import { VALUE, type Item } from "./item.js";
import { OrderBuffer } from "./order-buffer.js";
import { Run } from "./run.js";
import { anchorShape } from "../shape-anchors.js";

/**
 * `ordered()`: puts elements back in index-path order and streams them, each as soon as
 * every earlier element has been emitted or dropped. It accepts input as long as it can
 * emit, so an element stuck upstream never blocks the elements it is waiting for.
 */
export class OrderedStage implements Receiver, Producer {
  out!: Receiver;
  upstream!: Producer;

  readonly #run: Run;
  /** Whether a later `ordered()` needs the markers too. */
  readonly #markers: boolean;
  readonly #buffer = new OrderBuffer();
  #downstreamFull = false;
  #upstreamPaused = false;
  #inputEnded = false;
  #ended = false;
  readonly #emit = (item: Item): boolean => {
    if (this.#downstreamFull) return false;
    if (!this.out.push(item)) this.#downstreamFull = true;
    return true;
  };

  constructor(run: Run, markers: boolean) {
    this.#run = run;
    this.#markers = markers;
  }

  push(item: Item): boolean {
    if (this.#run.closing) return false;
    this.#buffer.add(item);
    if (item.mark !== VALUE && this.#markers && !this.out.push(item)) this.#downstreamFull = true;
    this.#flush();
    if (this.#downstreamFull) {
      this.#upstreamPaused = true;
      return false;
    }
    return true;
  }

  end(): void {
    this.#inputEnded = true;
    this.#flush();
  }

  resume(): void {
    if (this.#run.closing) return;
    this.#downstreamFull = false;
    this.#flush();
    if (!this.#downstreamFull && this.#upstreamPaused) {
      this.#upstreamPaused = false;
      this.upstream.resume();
    }
  }

  #flush(): void {
    const complete = this.#buffer.drain(this.#emit, this.#inputEnded);
    if (complete && this.#inputEnded && !this.#ended) {
      this.#ended = true;
      this.out.end();
    }
  }
}

// Keep the hidden classes of these per-run objects alive (see shape-anchors.ts).
anchorShape(new OrderedStage(new Run(undefined), false));

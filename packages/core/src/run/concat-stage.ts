import type { Producer, Receiver } from "./flow.js";
import { END, Item, PathLink } from "./item.js";
import { anchorShape } from "../shape-anchors.js";

/**
 * `concat(...)`: merges its inputs as elements arrive, prepending the input's position to
 * each index path. When downstream is full it pauses every input that pushed, and resumes
 * them all together.
 */
export class ConcatStage implements Producer {
  out!: Receiver;
  readonly inputs: ConcatInput[] = [];
  #ended = 0;

  constructor(
    inputCount: number,
    /** Whether an `ordered()` downstream needs this concat's end marker. */
    readonly markers: boolean,
  ) {
    for (let i = 0; i < inputCount; i++) this.inputs.push(new ConcatInput(this, i));
  }

  resume(): void {
    for (const input of this.inputs) {
      if (input.paused) {
        input.paused = false;
        input.upstream.resume();
      }
    }
  }

  /** One input has ended. */
  inputEnded(): void {
    if (++this.#ended < this.inputs.length) return;
    if (this.markers) this.out.push(new Item(this.inputs.length, -1, null, null, END, null));
    this.out.end();
  }
}

/** The receiving end of one concat input. */
export class ConcatInput implements Receiver {
  upstream!: Producer;
  paused = false;

  constructor(
    readonly concat: ConcatStage,
    readonly position: number,
  ) {}

  push(item: Item): boolean {
    item.prefix = new PathLink(this.position, item.prefix);
    if (this.concat.out.push(item)) return true;
    this.paused = true;
    return false;
  }

  end(): void {
    this.concat.inputEnded();
  }
}

// Keep the hidden classes of these per-run objects alive (see shape-anchors.ts).
anchorShape(new ConcatStage(1, false));

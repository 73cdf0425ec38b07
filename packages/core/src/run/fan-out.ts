import type { Producer, Receiver } from "./flow.js";
import { cloneItem, type Item } from "./item.js";
import { anchorShape } from "../shape-anchors.js";

/**
 * Broadcast for a node used more than once in one graph: the node runs once and every
 * branch receives each item (clones for all but the last). The producer pauses while any
 * branch is full, so the slowest branch sets the pace.
 */
export class FanOut implements Receiver {
  upstream!: Producer;
  readonly branches: FanOutBranch[] = [];
  #blocked = 0;

  /** Adds a consumer; returns the producer handle that consumer resumes. */
  addBranch(out: Receiver): FanOutBranch {
    const branch = new FanOutBranch(this, out);
    this.branches.push(branch);
    return branch;
  }

  push(item: Item): boolean {
    const branches = this.branches;
    const last = branches.length - 1;
    for (let i = 0; i <= last; i++) {
      const branch = branches[i]!;
      if (!branch.out.push(i === last ? item : cloneItem(item)) && !branch.blocked) {
        branch.blocked = true;
        this.#blocked++;
      }
    }
    return this.#blocked === 0;
  }

  end(): void {
    for (const branch of this.branches) branch.out.end();
  }

  /** A branch has room again. */
  branchResumed(branch: FanOutBranch): void {
    if (!branch.blocked) return;
    branch.blocked = false;
    if (--this.#blocked === 0) this.upstream.resume();
  }
}

/** One consumer of a {@link FanOut}. */
export class FanOutBranch implements Producer {
  blocked = false;

  constructor(
    readonly fan: FanOut,
    readonly out: Receiver,
  ) {}

  resume(): void {
    this.fan.branchResumed(this);
  }
}

// Keep the hidden classes of these per-run objects alive (see shape-anchors.ts).
const anchoredFan = new FanOut();
anchorShape(anchoredFan);
anchoredFan.addBranch(anchoredFan);

import { inputsOf, type Node } from "../nodes/node.js";
import { defaultMaxsize } from "../nodes/stage-settings.js";
import { ConcatStage } from "./concat-stage.js";
import { FanOut } from "./fan-out.js";
import type { Producer, Receiver } from "./flow.js";
import { OrderedStage } from "./ordered-stage.js";
import type { Run } from "./run.js";
import { SourceStage } from "./source-stage.js";
import { WorkerStage } from "./worker-stage.js";

/** What the wiring needs to know about one node of a graph. */
class NodeFacts {
  /** Edges into consumers: more than one means broadcast. */
  uses = 1;
  /** Whether an `ordered()` downstream needs this node's drop and end markers. */
  markers: boolean;

  constructor(markers: boolean) {
    this.markers = markers;
  }
}

/** The facts of a graph, computed once per root node and reused by every run. */
class Plan {
  readonly facts = new Map<Node, NodeFacts>();
  shared = false;
}

const plans = new WeakMap<Node, Plan>();

function planOf(root: Node): Plan {
  let plan = plans.get(root);
  if (plan === undefined) {
    plan = new Plan();
    visit(plan, root, false);
    plans.set(root, plan);
  }
  return plan;
}

function visit(plan: Plan, node: Node, markers: boolean): void {
  const known = plan.facts.get(node);
  if (known !== undefined) {
    known.uses++;
    plan.shared = true;
    if (markers) requireMarkers(plan, node);
    return;
  }
  plan.facts.set(node, new NodeFacts(markers));
  const childMarkers = markers || node.kind === "ordered";
  for (const input of inputsOf(node)) visit(plan, input, childMarkers);
}

function requireMarkers(plan: Plan, node: Node): void {
  const facts = plan.facts.get(node)!;
  if (facts.markers) return;
  facts.markers = true;
  for (const input of inputsOf(node)) requireMarkers(plan, input);
}

/**
 * Builds the running stages of `root`'s graph for `run`, connected to `sink`. Stages are
 * registered with the run before sources, so hooks start before the first element is pulled.
 */
export function wire(root: Node, run: Run, sink: Receiver & { upstream: Producer }): void {
  const plan = planOf(root);
  const builder = new Builder(run, plan);
  sink.upstream = builder.build(root, sink);
  for (const source of builder.sources) run.addPart(source);
}

/** How many values may wait for an iterating consumer: the last stage's `maxsize` (SPEC §4). */
export function consumerCapacity(root: Node): number {
  let node = root;
  while (node.kind === "ordered") node = node.input;
  switch (node.kind) {
    case "map":
    case "filter":
    case "flatMap":
    case "each":
      return node.settings.maxsize;
    default:
      return defaultMaxsize(1);
  }
}

class Builder {
  readonly sources: SourceStage[] = [];
  readonly #fans: Map<Node, FanOut> | null;

  constructor(
    readonly run: Run,
    readonly plan: Plan,
  ) {
    this.#fans = plan.shared ? new Map() : null;
  }

  build(node: Node, out: Receiver): Producer {
    const facts = this.plan.facts.get(node)!;
    if (facts.uses === 1) return this.#buildNode(node, out, facts.markers);
    let fan = this.#fans!.get(node);
    if (fan === undefined) {
      fan = new FanOut();
      this.#fans!.set(node, fan);
      fan.upstream = this.#buildNode(node, fan, facts.markers);
    }
    return fan.addBranch(out);
  }

  #buildNode(node: Node, out: Receiver, markers: boolean): Producer {
    switch (node.kind) {
      case "source": {
        const source = new SourceStage(this.run, node, markers);
        source.out = out;
        this.sources.push(source);
        return source;
      }
      case "ordered": {
        const stage = new OrderedStage(this.run, markers);
        stage.out = out;
        stage.upstream = this.build(node.input, stage);
        return stage;
      }
      case "concat": {
        const stage = new ConcatStage(node.inputs.length, markers);
        stage.out = out;
        node.inputs.forEach((input, i) => {
          const receiver = stage.inputs[i]!;
          receiver.upstream = this.build(input, receiver);
        });
        return stage;
      }
      default: {
        const stage = new WorkerStage(this.run, node, markers);
        stage.out = out;
        this.run.addPart(stage);
        stage.upstream = this.build(node.input, stage);
        return stage;
      }
    }
  }
}

import { inputsOf, visitNode, visitorOf, type Node, type NodeVisitor } from "../nodes/node.js";
import type { StageNode } from "../nodes/stage-node.js";
import { defaultMaxsize, stageDefaults } from "../nodes/stage-settings.js";
import { BatchStage } from "./batch-stage.js";
import { ConcatStage } from "./concat-stage.js";
import { FanOut, FanOutBranch } from "./fan-out.js";
import type { Producer, Receiver } from "./flow.js";
import { OrderedStage } from "./ordered-stage.js";
import type { Progress } from "./progress.js";
import type { Run } from "./run.js";
import { BatchInTap, BatchOutTap, type RunTracing } from "./run-tracing.js";
import { SliceStage } from "./slice-stage.js";
import { SourceStage } from "./source-stage.js";
import { WorkerStage } from "./worker-stage.js";

/** What the wiring needs to know about one node of a graph with a concat. */
class NodeFacts {
  /** Edges into consumers: more than one means broadcast. */
  uses = 1;
  /** Whether an `ordered()` downstream needs this node's drop and end markers. */
  markers: boolean;

  constructor(markers: boolean) {
    this.markers = markers;
  }
}

/**
 * Facts about the nodes of a graph that contains a concat (only a concat can make one node
 * feed two consumers), or `null` for a chain, which needs none: its marker flags follow
 * from the path alone. Computed per run on purpose: caching per root in a WeakMap kept every
 * run's nodes alive through scavenges and made V8 pretenure them (docs/design.md §14).
 */
function analyse(root: Node): Map<Node, NodeFacts> | null {
  let node = root;
  while (node.kind !== "source" && node.kind !== "concat") node = node.input;
  if (node.kind === "source") return null;
  const facts = new Map<Node, NodeFacts>();
  visit(facts, root, false);
  return facts;
}

function visit(facts: Map<Node, NodeFacts>, node: Node, markers: boolean): void {
  const known = facts.get(node);
  if (known !== undefined) {
    known.uses++;
    if (markers) requireMarkers(facts, node);
    return;
  }
  facts.set(node, new NodeFacts(markers));
  // ordered() needs its input's markers; batch() starts fresh index paths and needs none.
  const childMarkers = node.kind === "ordered" ? true : node.kind === "batch" ? false : markers;
  for (const input of inputsOf(node)) visit(facts, input, childMarkers);
}

function requireMarkers(facts: Map<Node, NodeFacts>, node: Node): void {
  const known = facts.get(node)!;
  if (known.markers) return;
  known.markers = true;
  if (node.kind === "batch") return;
  for (const input of inputsOf(node)) requireMarkers(facts, input);
}

/**
 * Builds the running stages of `root`'s graph for `run`, connected to `sink`, registering
 * them with `progress` when the run is watched. Stages are
 * started by the run before sources, so hooks start before the first element is pulled.
 */
export function wire(root: Node, run: Run, sink: Receiver & { upstream: Producer }, progress: Progress | null, tracing: RunTracing | null = null): void {
  const facts = analyse(root);
  // A traced run is always watched: its telemetry reads the stats (docs/design.md §21).
  const builder =
    progress === null ? new Builder(run, facts) : tracing === null ? new WatchedBuilder(run, facts, progress) : new TracedBuilder(run, facts, progress, tracing);
  sink.upstream = builder.build(root, sink, false);
}

/** How many values may wait for an iterating consumer: the last stage's `maxsize` (docs/behaviour.md §4). */
export function consumerCapacity(root: Node): number {
  return visitNode(CAPACITY, root);
}

const CAPACITY: NodeVisitor<number> = {
  ordered: (node) => consumerCapacity(node.input),
  map: (node) => node.settings.maxsize,
  filter: (node) => node.settings.maxsize,
  flatMap: (node) => node.settings.maxsize,
  each: (node) => node.settings.maxsize,
  // One batch waiting for the consumer, the "one batch downstream" of docs/behaviour.md §4.
  batch: () => 1,
  // A slice holds nothing: what waits for the consumer is what its input's stage lets wait.
  slice: (node) => consumerCapacity(node.input),
  source: () => defaultMaxsize(stageDefaults.workers),
  concat: () => defaultMaxsize(stageDefaults.workers),
};

class Builder {
  readonly #facts: Map<Node, NodeFacts> | null;
  readonly #fans: Map<Node, FanOut> | null;

  constructor(
    readonly run: Run,
    facts: Map<Node, NodeFacts> | null,
  ) {
    this.#facts = facts;
    this.#fans = facts === null ? null : new Map();
  }

  /** Builds `node` feeding `out`; `markers` says whether an `ordered()` lies downstream on this path. */
  build(node: Node, out: Receiver, markers: boolean): Producer {
    const facts = this.#facts?.get(node);
    if (facts === undefined) return this.#buildNode(node, out, markers);
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
    return visitorOf(BUILD, node)(node, this, out, markers);
  }

  /** Whether `node` or a node it reads from (transitively) feeds more than one consumer. */
  sharedUpstream(node: Node): boolean {
    const facts = this.#facts;
    if (facts === null) return false;
    const pending = [node];
    for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
      if (facts.get(next)!.uses > 1) return true;
      pending.push(...inputsOf(next));
    }
    return false;
  }

  /** The node a worker stage runs: `node` itself, unless the run is traced. */
  workerNode(node: StageNode): StageNode {
    return node;
  }

  /** Connects a batch stage to `out`; returns what its input should feed: the stage itself, unless the run is traced. */
  connectBatch(stage: BatchStage, out: Receiver): Receiver {
    stage.out = out;
    return stage;
  }
}

/** How each node kind becomes a running part, connected to `out`, its inputs built by `builder`. */
const BUILD: NodeVisitor<Producer, [builder: Builder, out: Receiver, markers: boolean]> = {
  source: (node, builder, out, markers) => {
    const source = new SourceStage(builder.run, node, markers);
    source.out = out;
    builder.run.addPart(source, true);
    return source;
  },
  ordered: (node, builder, out, markers) => {
    const stage = new OrderedStage(builder.run, markers);
    stage.out = out;
    stage.upstream = builder.build(node.input, stage, true);
    return stage;
  },
  batch: (node, builder, out, markers) => {
    const stage = new BatchStage(builder.run, node, markers);
    const input = builder.connectBatch(stage, out);
    builder.run.addPart(stage, false);
    stage.upstream = builder.build(node.input, input, false);
    return stage;
  },
  slice: (node, builder, out, markers) => {
    const stage = new SliceStage(builder.run, node, markers, builder.sharedUpstream(node.input));
    stage.out = out;
    stage.upstream = builder.build(node.input, stage, markers);
    return stage;
  },
  concat: (node, builder, out, markers) => {
    const stage = new ConcatStage(node.inputs.length, markers);
    stage.out = out;
    node.inputs.forEach((input, i) => {
      const receiver = stage.inputs[i]!;
      receiver.upstream = builder.build(input, receiver, markers);
    });
    return stage;
  },
  map: buildWorker,
  filter: buildWorker,
  flatMap: buildWorker,
  each: buildWorker,
};

function buildWorker(node: StageNode, builder: Builder, out: Receiver, markers: boolean): Producer {
  const stage = new WorkerStage(builder.run, builder.workerNode(node), markers);
  stage.out = out;
  builder.run.addPart(stage, false);
  stage.upstream = builder.build(node.input, stage, markers);
  return stage;
}

/**
 * A {@link Builder} that also registers each stage and source with the run's `Progress`, each
 * after the parts that feed it, so the stats list stages in chain order (docs/design.md §18).
 * Only watched runs use it, so the plain builder's per-run path stays exactly as it was:
 * bench E (many small runs) reacts to small changes there (docs/design.md §14, §18).
 */
class WatchedBuilder extends Builder {
  readonly #progress: Progress;
  readonly #registered = new Set<Producer>();

  constructor(run: Run, facts: Map<Node, NodeFacts> | null, progress: Progress) {
    super(run, facts);
    this.#progress = progress;
  }

  override build(node: Node, out: Receiver, markers: boolean): Producer {
    const producer = super.build(node, out, markers);
    // A node feeding several consumers is built once, behind a fan-out: register its part once.
    this.#register(producer instanceof FanOutBranch ? producer.fan.upstream : producer);
    return producer;
  }

  #register(part: Producer): void {
    if (this.#registered.has(part)) return;
    this.#registered.add(part);
    if (part instanceof WorkerStage || part instanceof BatchStage) this.#progress.addStage(part);
    else if (part instanceof SourceStage) this.#progress.addSource(part);
  }
}

/**
 * A {@link WatchedBuilder} for a run with `telemetry`: each worker stage runs its `f` traced,
 * and each batch stage is wrapped in taps that link a batch's span to its elements' spans.
 */
class TracedBuilder extends WatchedBuilder {
  readonly #tracing: RunTracing;

  constructor(run: Run, facts: Map<Node, NodeFacts> | null, progress: Progress, tracing: RunTracing) {
    super(run, facts, progress);
    this.#tracing = tracing;
  }

  override workerNode(node: StageNode): StageNode {
    return this.#tracing.traced(node);
  }

  override connectBatch(stage: BatchStage, out: Receiver): Receiver {
    const input = new BatchInTap(this.#tracing, stage);
    stage.out = new BatchOutTap(input, out);
    return input;
  }
}

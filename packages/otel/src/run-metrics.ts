import type { Attributes, Counter, Meter } from "@opentelemetry/api";
import type { RunStats, StageStats } from "@sluice/core";

/** The counters of {@link StageStats} that become metrics, with the name each gets after `sluice.stage.`. */
const STAGE_COUNTERS = {
  taken: "taken",
  done: "done",
  emitted: "emitted",
  dropped: "dropped",
  skipped: "skipped",
  failed: "failed",
  cancelled: "cancelled",
  retried: "retried",
  timedOut: "timed_out",
} as const satisfies Partial<Record<keyof StageStats, string>>;

type StageCounter = keyof typeof STAGE_COUNTERS;
const COUNTER_KEYS = Object.keys(STAGE_COUNTERS) as StageCounter[];

/**
 * The counters of {@link RunStats} as OpenTelemetry counters, one set per meter. A run's
 * figures are running totals; each report adds what grew since the run's previous report
 * (a {@link RunTally}), so a long run is counted as it goes and never twice.
 */
export class RunMetrics {
  readonly #stages: Record<StageCounter, Counter>;
  readonly #pulled: Counter;
  readonly #delivered: Counter;
  readonly #runs: Counter;

  constructor(meter: Meter) {
    const stages = {} as Record<StageCounter, Counter>;
    for (const key of COUNTER_KEYS) {
      stages[key] = meter.createCounter(`sluice.stage.${STAGE_COUNTERS[key]}`, {
        description: `Elements (for retried: extra attempts; for timed_out: calls) counted as ${key} in RunStats, per stage`,
        unit: "{element}",
      });
    }
    this.#stages = stages;
    this.#pulled = meter.createCounter("sluice.source.pulled", { description: "Elements read from sources", unit: "{element}" });
    this.#delivered = meter.createCounter("sluice.delivered", { description: "Elements delivered to consumers", unit: "{element}" });
    this.#runs = meter.createCounter("sluice.runs", { description: "Runs ended, by final state", unit: "{run}" });
  }

  /** Adds what `stats` counts beyond what `tally` has already reported. */
  report(tally: RunTally, stats: RunStats): void {
    stats.stages.forEach((stage, i) => {
      const seen = (tally.stages[i] ??= new StageTally(stage));
      for (const key of COUNTER_KEYS) {
        const grown = stage[key] - seen.counts[key];
        if (grown > 0) this.#stages[key].add(grown, seen.attributes);
        seen.counts[key] = stage[key];
      }
    });
    if (stats.source.pulled > tally.pulled) this.#pulled.add(stats.source.pulled - tally.pulled);
    tally.pulled = stats.source.pulled;
    if (stats.delivered > tally.delivered) this.#delivered.add(stats.delivered - tally.delivered);
    tally.delivered = stats.delivered;
  }

  /** The run has ended in `stats.state`. */
  ended(stats: RunStats): void {
    this.#runs.add(1, { "sluice.state": stats.state });
  }
}

/** What one run has reported so far. */
export class RunTally {
  readonly stages: StageTally[] = [];
  pulled = 0;
  delivered = 0;
}

class StageTally {
  readonly attributes: Attributes;
  readonly counts: Record<StageCounter, number> = { taken: 0, done: 0, emitted: 0, dropped: 0, skipped: 0, failed: 0, cancelled: 0, retried: 0, timedOut: 0 };

  constructor(stage: StageStats) {
    this.attributes = { "sluice.stage": stage.name, "sluice.kind": stage.kind };
  }
}

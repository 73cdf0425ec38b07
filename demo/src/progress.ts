import cliProgress from "cli-progress";
import type { Tally } from "./fetch-pipeline.js";

/** A live view of a {@link Tally}; `stop()` draws the final state and releases the terminal. */
export interface Progress {
  stop(): void;
}

const TTY_REFRESH_MS = 100;
const PLAIN_EVERY_MS = 1000;

/**
 * Shows how far a run has got: a progress bar (cli-progress) when `stream` is a terminal,
 * otherwise one plain line per second, which reads well in CI logs and files.
 */
export function showProgress(label: string, total: number, tally: Tally, stream: NodeJS.WriteStream = process.stdout): Progress {
  const started = performance.now();
  const rate = () => tally.settled / Math.max((performance.now() - started) / 1000, 0.001);
  return stream.isTTY ? barProgress(label, total, tally, rate, stream) : plainProgress(label, total, tally, rate, stream);
}

function barProgress(label: string, total: number, tally: Tally, rate: () => number, stream: NodeJS.WriteStream): Progress {
  const bar = new cliProgress.SingleBar(
    {
      // Short enough for an 80-column terminal, where cli-progress cuts longer lines.
      format: `${label.padEnd(10)} {bar} {percentage}% {value}/{total}  ok {done}  failed {failed}  timed out {timedOut}  {rate}/s`,
      stream,
      hideCursor: true,
      barsize: 12,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  const payload = () => ({ done: tally.done, failed: tally.failed, timedOut: tally.timedOut, rate: rate().toFixed(0) });
  bar.start(total, 0, payload());
  const timer = setInterval(() => bar.update(tally.settled, payload()), TTY_REFRESH_MS);
  return {
    stop() {
      clearInterval(timer);
      bar.update(tally.settled, payload());
      bar.stop();
    },
  };
}

function plainProgress(label: string, total: number, tally: Tally, rate: () => number, stream: NodeJS.WriteStream): Progress {
  const started = performance.now();
  const line = () => {
    const percent = Math.floor((100 * tally.settled) / total);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    stream.write(
      `${label}: ${tally.settled}/${total} (${percent}%)  ok ${tally.done}  failed ${tally.failed}  ` +
        `timed out ${tally.timedOut}  ${rate().toFixed(0)}/s  ${seconds} s\n`,
    );
  };
  const timer = setInterval(line, PLAIN_EVERY_MS);
  return {
    stop() {
      clearInterval(timer);
      line();
    },
  };
}

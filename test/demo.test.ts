import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { pipe } from "@sluice/dsl";
import { loadFactor, startFlakyServer } from "../demo/dist/flaky-server.js";
import { formatLine, stageBars, stageLines } from "../demo/dist/progress.js";
import { limitHistory } from "../demo/dist/summary.js";

// The demo as a user runs it, built by `pnpm build` (which `pnpm test` runs first), without a terminal.
const MAIN = fileURLToPath(new URL("../demo/dist/main.js", import.meta.url));

interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runDemo(args: readonly string[], onStdout?: (text: string, child: ReturnType<typeof spawn>) => void): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      onStdout?.(stdout, child);
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("the pnpm start demo", () => {
  it("runs to its summary without a terminal, with plain progress lines, and exits 0 by itself", async () => {
    const { code, stdout, stderr } = await runDemo(["--count", "15", "--workers", "8"]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toMatch(/^sluice fetch: 15\/15 \(100%\)  in flight 0  waiting 0/m);
    expect(stdout).not.toMatch(/\x1b\[/); // no escape codes when stdout is not a terminal
    const count = (name: string) => Number(new RegExp(`^  ${name} +(\\d+)`, "m").exec(stdout)?.[1]);
    expect(count("done") + count("failed") + count("timed out")).toBe(15);
    // Retries come from the stage's retry option and the figures from RunStats: no counting in f.
    expect(stdout).toMatch(/^ {2}recovered +\d+ {2}fetched by a retry after an HTTP 503 or 429 \(\d+ retries in all\)$/m);
    expect(count("recovered")).toBeLessThanOrEqual(count("done"));
    expect(stdout).toMatch(/delivered in id order/);
    expect(stdout).toMatch(/^  speed-up +\d+(\.\d)?x/m);
    // The same job with workers: "auto": its live line shows the limit, the summary how it moved.
    expect(stdout).toMatch(/^auto fetch: 15\/15 \(100%\)  in flight 0  limit \d+  waiting 0/m);
    expect(stdout).not.toMatch(/^sluice fetch: .* limit /m);
    expect(stdout).toMatch(/^ {2}auto +\d+\.\d {2}records\/s with workers: "auto" \(\d+ done, \d+ failed, \d+ 429s, \d+\.\d s\)$/m);
    expect(stdout).toMatch(/^ {2}auto limit +\d+\.\d {2}time-weighted; over time: \d+( → \d+)*$/m);
    expect(stdout).toMatch(/^ {2}429s +\d+ {2}requests refused by the API, which serves 24 at once$/m);
  });

  it("Ctrl-C (SIGINT) aborts the run, still prints the summary, and exits 0", async () => {
    let sent = false;
    const { code, stdout } = await runDemo(["--count", "5000"], (text, child) => {
      if (!sent && /^sluice fetch: \d+\/5000/m.test(text)) {
        sent = true;
        child.kill("SIGINT");
      }
    });
    expect(sent).toBe(true);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Summary \(Ctrl-C: the run was aborted through its AbortSignal/m);
    expect(stdout).toMatch(/cancelled or never requested/);
    expect(stdout).toMatch(/^  speed-up +- +not measured/m);
  });

  it("SIGTERM drains the run: nothing more is requested, every record requested finishes, and it exits 0", async () => {
    let sent = false;
    const { code, stdout } = await runDemo(["--count", "5000"], (text, child) => {
      if (!sent && /^sluice fetch: \d+\/5000/m.test(text)) {
        sent = true;
        child.kill("SIGTERM");
      }
    });
    expect(sent).toBe(true);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Summary \(SIGTERM: the run was drained/m);
    // The final progress line: nothing left in flight or waiting, and fewer than all were requested.
    const finals = [...stdout.matchAll(/^sluice fetch: (\d+)\/5000 \(\d+%\)  in flight (\d+)  waiting (\d+)/gm)];
    const last = finals.at(-1)!;
    expect([last[2], last[3]]).toEqual(["0", "0"]);
    const settled = Number(last[1]);
    expect(settled).toBeLessThan(5000);
    // Every record requested settled (done, failed or timed out): none was cancelled.
    const count = (name: string) => Number(new RegExp(`^  ${name} +(\\d+)`, "m").exec(stdout)?.[1]);
    expect(count("done") + count("failed") + count("timed out")).toBe(settled);
    expect(stdout).toMatch(new RegExp(`^  records +5000  ${5000 - settled} never requested$`, "m"));
    expect(stdout).toMatch(/^  speed-up +- +not measured: SIGTERM/m);
  });

  it.each([
    [["--count", "abc"], '--count must be an integer from 1 to 1000000 (received "abc")'],
    [["--workers", "0"], '--workers must be an integer from 1 to 1000 (received "0")'],
    [["--count"], "--count needs a value, as in --count 100"],
    [["--verbose"], "unknown flag --verbose"],
    [["now"], 'unexpected argument "now"'],
  ])("%j prints what is wrong and exits 2", async (args, message) => {
    const { code, stdout, stderr } = await runDemo(args);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toBe(`sluice demo: ${message}\nRun it with --help to see the options.\n`);
  });

  it("--help prints the usage and exits 0", async () => {
    const { code, stdout } = await runDemo(["--help"]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: pnpm start \[--count N\] \[--workers N\]/);
    expect(stdout).toMatch(/--workers N/);
  });
});

describe("the demo's progress display (demo/src/progress.ts)", () => {
  it("without a terminal, prints one plain line per stage with done/expected, in flight, waiting and rate, and the final figures on stop()", async () => {
    const written: string[] = [];
    const stream = { isTTY: false, write: (text: string) => written.push(text) } as unknown as NodeJS.WriteStream;
    const bars = stageBars({ label: "job", stream, plainEveryMs: 20 });
    await pipe(Array.from({ length: 40 }, (_, i) => i))
      .map(async (x) => (await new Promise((resolve) => setTimeout(resolve, 2)), x), { name: "fetch", workers: 4 })
      .filter((x) => x % 2 === 0, { name: "even" })
      .each(() => undefined, { name: "store" })
      .run({ onProgress: bars.onProgress, progressInterval: 5 });
    bars.stop();
    const lines = written.join("").trimEnd().split("\n");
    expect(lines.length % 3).toBe(0);
    expect(lines.slice(-3)).toEqual([
      expect.stringMatching(/^job fetch: 40\/40 \(100%\)  in flight 0  waiting 0  \d+\/s  ETA 0 s$/),
      expect.stringMatching(/^job even: 40\/40 \(100%\)  in flight 0  waiting 0  \d+\/s  ETA 0 s$/),
      // The filter let half through: the stage after it expects 20.
      expect.stringMatching(/^job store: 20\/20 \(100%\)  in flight 0  waiting 0  \d+\/s  ETA 0 s$/),
    ]);
    expect(bars.last?.state).toBe("done");
  });

  it("a source of unknown size shows counts without a total, unless the display is told one", () => {
    const stats = {
      elapsedMs: 2000,
      state: "running",
      source: { pulled: 10 },
      delivered: 0,
      stages: [{ name: "fetch", kind: "map", taken: 10, waiting: 2, inFlight: 4, limit: 4, done: 6, emitted: 6, dropped: 0, skipped: 0, failed: 0, cancelled: 0, retried: 0, timedOut: 0, recovered: 0 }],
    } as const;
    expect(stageLines(stats, undefined)[0]).toMatchObject({ settled: 6, expected: undefined, eta: undefined, rate: 3 });
    expect(stageLines(stats, 30)[0]).toMatchObject({ settled: 6, expected: 30, eta: 8 });
  });
});

describe("the demo's API has a capacity knee (demo/src/flaky-server.ts)", () => {
  it("refuses a request past its capacity with a 429, and serves again once there is room", async () => {
    const server = await startFlakyServer(2);
    try {
      // Ids 2 and 3 answer (they neither hang nor fail); the third request in flight is refused.
      const get = (id: number) => fetch(`${server.url}/records/${id}`).then(async (response) => (await response.body?.cancel(), response.status));
      const statuses = await Promise.all([get(2), get(3), get(2)]);
      expect(statuses.sort()).toEqual([200, 200, 429]);
      expect(server.refused()).toBe(1);
      expect(await get(3)).toBe(200);
    } finally {
      await server.close();
    }
  });

  it("slows down as it fills: hardly at all when light, twice as slow at the knee", () => {
    expect(loadFactor(1, 24)).toBeLessThan(1.01);
    expect(loadFactor(12, 24)).toBeCloseTo(1.0625);
    expect(loadFactor(24, 24)).toBe(2);
  });
});

describe("the limit in the demo's display and summary", () => {
  const line = { name: "fetch", settled: 5, expected: 10, inFlight: 3, limit: 7, waiting: 2, rate: 4, eta: 2 };

  it("a line shows the stage's limit after its calls in flight when asked to", () => {
    expect(formatLine("auto", line, true)).toBe("auto fetch: 5/10 (50%)  in flight 3  limit 7  waiting 2  4/s  ETA 2 s");
    expect(formatLine("job", line)).toBe("job fetch: 5/10 (50%)  in flight 3  waiting 2  4/s  ETA 2 s");
  });

  it("the history picks evenly spread samples, first and last included, and the mean of all", () => {
    expect(limitHistory([4, 5, 6, 7, 8, 9, 10, 11, 12, 13], 4)).toEqual({ path: "4 → 7 → 10 → 13", mean: 8.5 });
    expect(limitHistory([6])).toEqual({ path: "6", mean: 6 });
    expect(limitHistory([])).toEqual({ path: "-", mean: 0 });
  });
});

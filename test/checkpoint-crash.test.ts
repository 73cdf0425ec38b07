/**
 * The crash proof of checkpoints (docs/behaviour.md §15): examples/resume-ndjson.ts, run as
 * its own process over a 20 000-line NDJSON file, is killed with SIGKILL about halfway and
 * started again: it resumes from its last checkpoint, every line is processed, and the lines
 * processed twice are at most those past the watermark: §4's bound plus one checkpoint
 * interval (`EVERY` lines). SIGTERM, by contrast, drains: a restart after it repeats nothing.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EVERY, IN_FLIGHT_BOUND, writeReadings } from "../examples/resume-ndjson.js";

const LINES = 20_000;
let dir = "";
let script = "";

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "sluice-crash-"));
  // The example as one plain script (the packages' built code included), for `node` to run.
  script = join(dir, "resume-ndjson.mjs");
  await build({
    entryPoints: [fileURLToPath(new URL("../examples/resume-ndjson.ts", import.meta.url))],
    bundle: true,
    platform: "node",
    format: "esm",
    outfile: script,
    logLevel: "silent",
  });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The ids processed so far, one a line, in `stateDir/processed.txt`. */
async function processedIds(stateDir: string): Promise<string[]> {
  const text = await readFile(join(stateDir, "processed.txt"), "utf8").catch(() => "");
  return text === "" ? [] : text.trimEnd().split("\n");
}

/** Runs the example on `file`; `stop` may signal it once it returns true for the ids processed so far. */
function runExample(file: string, stateDir: string, stop?: { when: (processed: number) => boolean; signal: NodeJS.Signals }) {
  const child = spawn(process.execPath, [script, file, stateDir], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  let sent = false;
  const poll =
    stop === undefined
      ? undefined
      : setInterval(() => {
          void processedIds(stateDir).then((ids) => {
            if (!sent && stop.when(ids.length)) {
              sent = true;
              child.kill(stop.signal);
            }
          });
        }, 10);
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; sent: boolean }>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearInterval(poll);
      resolve({ code, signal, stdout, stderr, sent });
    });
  });
}

describe("resuming an NDJSON file from its checkpoint", () => {
  it("after SIGKILL halfway, a restart processes every line, repeating at most §4's bound plus one checkpoint interval", async () => {
    const stateDir = await mkdtemp(join(dir, "kill-"));
    const file = join(stateDir, "readings.ndjson");
    await writeReadings(file, LINES);

    const killed = await runExample(file, stateDir, { when: (n) => n >= LINES / 2, signal: "SIGKILL" });
    expect(killed.sent).toBe(true);
    expect(killed.signal).toBe("SIGKILL");
    const beforeRestart = await processedIds(stateDir);
    expect(beforeRestart.length).toBeGreaterThanOrEqual(LINES / 2);
    expect(beforeRestart.length).toBeLessThan(LINES);

    const restarted = await runExample(file, stateDir);
    expect(restarted.stderr).toBe("");
    expect(restarted.code).toBe(0);
    const resumedAt = Number(/^started at byte (\d+)/m.exec(restarted.stdout)?.[1]);
    expect(resumedAt).toBeGreaterThan(0);

    const ids = await processedIds(stateDir);
    const counts = new Map<string, number>();
    for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
    // Every line processed...
    expect(counts.size).toBe(LINES);
    for (let id = 0; id < LINES; id++) expect(counts.has(String(id)), `line ${id}`).toBe(true);
    // ...none more than twice, and the repeats within the bound.
    expect(Math.max(...counts.values())).toBeLessThanOrEqual(2);
    const repeated = ids.length - LINES;
    expect(repeated).toBeLessThanOrEqual(IN_FLIGHT_BOUND + EVERY);
  });

  it("after SIGTERM (a drain), the checkpoint stands on the last line read: a restart repeats nothing", async () => {
    const stateDir = await mkdtemp(join(dir, "term-"));
    const file = join(stateDir, "readings.ndjson");
    await writeReadings(file, LINES);

    const drained = await runExample(file, stateDir, { when: (n) => n >= LINES / 4, signal: "SIGTERM" });
    expect(drained.sent).toBe(true);
    expect(drained.code).toBe(0);
    const first = await processedIds(stateDir);
    expect(first.length).toBeLessThan(LINES);

    const restarted = await runExample(file, stateDir);
    expect(restarted.code).toBe(0);
    const ids = await processedIds(stateDir);
    expect(ids.length).toBe(LINES);
    expect(new Set(ids).size).toBe(LINES);
  });
});

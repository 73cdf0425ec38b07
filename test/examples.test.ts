import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main as batchedInserts } from "../examples/batched-inserts.js";
import { main as cpuBound } from "../examples/cpu-bound.js";
import { main as deadline } from "../examples/deadline.js";
import { main as earlyExit } from "../examples/early-exit.js";
import { main as flakyImport } from "../examples/flaky-import.js";
import { main as httpFanOut } from "../examples/http-fan-out.js";
import { main as metricsExporter } from "../examples/metrics-exporter.js";
import { main as rateLimitedClient } from "../examples/rate-limited-client.js";
import { main as readLines } from "../examples/read-lines.js";
import { EVERY, IN_FLIGHT_BOUND, main as resumeNdjson } from "../examples/resume-ndjson.js";
import { main as seed } from "../examples/seed.js";
import { main as spanTree } from "../examples/span-tree.js";

// Each example's main(log) prints through `log` and returns what it printed about.
function capture(): { lines: string[]; log: (line: string) => void } {
  const lines: string[] = [];
  return { lines, log: (line) => lines.push(line) };
}

const ascending = (values: readonly number[]) => [...values].sort((a, b) => a - b);

describe("examples", () => {
  it("resume-ndjson: torn down part way, then resumed from its checkpoint: every line processed, few twice", async () => {
    const { lines, log } = capture();
    const result = await resumeNdjson(log);
    expect(result.distinct).toBe(3_000);
    expect(result.resumedAt).toBeGreaterThan(0);
    expect(result.repeated).toBeLessThanOrEqual(IN_FLIGHT_BOUND + EVERY);
    expect(result.processed).toBe(3_000 + result.repeated);
    expect(lines[0]).toMatch(/^resumed at byte \d+: \d+ lines processed, 3000 distinct, \d+ twice$/);
  });

  it("batched-inserts: 1000 rows in chunks of at most 100, all inserted", async () => {
    const { lines, log } = capture();
    const result = await batchedInserts(log);
    expect(result.rows).toBe(1_000);
    expect(result.largestChunk).toBeLessThanOrEqual(100);
    expect(result.calls).toBeGreaterThanOrEqual(10);
    expect(lines[0]).toMatch(/^inserted 1000 rows in \d+ insertMany calls \(largest chunk \d+\)$/);
  });

  it("cpu-bound: 200 chunks fingerprinted on a shared pool and on the stage's own, as the main thread computes them", async () => {
    const { lines, log } = capture();
    const result = await cpuBound(log);
    expect(result.expected).toHaveLength(200);
    expect(new Set(result.expected).size).toBe(200);
    expect(result.shared).toEqual(result.expected);
    expect(result.owned).toEqual(result.expected);
    expect(result.transferred).toBe(true);
    expect(lines[0]).toBe(`shared pool: 200 chunks fingerprinted, first chunk-0 ${result.expected[0]!.slice(0, 16)}...`);
    expect(lines[1]).toBe("stage's own pool: 200 chunks fingerprinted, same digests: true");
  });

  it("flaky-import: retried 503s recover, the malformed and the always-failing records are collected, not fatal", async () => {
    const { lines, log } = capture();
    const result = await flakyImport(log);
    // 40 ids: 4, 8, ..., 40 need a second request; 13 fails all 3 attempts; 7 and 21 are invalid.
    expect(result).toEqual({ imported: 37, invalid: 2, failed: 1, requests: 40 + 10 + 2 });
    expect(lines[0]).toBe("imported 37 of 40 records with 52 requests");
    expect(lines.slice(1).sort()).toEqual([
      "  record 13 (map#1): failed after 3 attempts: HTTP 500",
      expect.stringMatching(/^ {2}record 21 \(parse#2\): invalid: parse#2: element \[20\] is invalid at name: /),
      expect.stringMatching(/^ {2}record 7 \(parse#2\): invalid: parse#2: element \[6\] is invalid at name: /),
    ]);
  });

  it("rate-limited-client: every item fetched, in order, without being refused by the server", async () => {
    const { lines, log } = capture();
    const result = await rateLimitedClient(log);
    expect(result.items).toBe(60);
    // The limiter keeps under the server's window; a rare 429 (uneven arrival) is retried, never lost.
    expect(result.refused).toBeLessThanOrEqual(10);
    expect(lines[0]).toMatch(/^fetched 60 items, \d+ requests refused with 429$/);
  });

  it("seed: await and for await both give 4..10, in completion order", async () => {
    const { lines, log } = capture();
    const { data, streamed } = await seed(log);
    expect(ascending(data)).toEqual([4, 5, 6, 7, 8, 9, 10]);
    expect(ascending(streamed)).toEqual([4, 5, 6, 7, 8, 9, 10]);
    expect(lines).toEqual([`await stage     -> [${data.join(", ")}]`, `for await stage -> [${streamed.join(", ")}]`]);
  });

  it("http-fan-out: 40 books in id order over at most 8 shared connections, agent closed by onDone", async () => {
    const { lines, log } = capture();
    const result = await httpFanOut(log);
    expect(result.titles).toEqual(Array.from({ length: 40 }, (_, i) => `Book ${i + 1}`));
    expect(result.connections).toBeGreaterThanOrEqual(1);
    expect(result.connections).toBeLessThanOrEqual(8);
    expect(result.closed).toBe(true);
    expect(lines[0]).toBe("fetched 40 books: Book 1, Book 2, Book 3, ..., Book 40");
    expect(lines[1]).toBe(`40 requests used ${result.connections} connections (the pool allows 8)`);
  });

  it("read-lines: the sample file gives 200 orders, skips the malformed line and totals per country", async () => {
    const { lines, log } = capture();
    const result = await readLines(log);
    expect(result.orders).toBe(200);
    expect(result.skipped).toBe(1);
    const countries = ["FR", "DE", "JP", "BR", "KE"];
    const expected: Record<string, number> = {};
    for (let id = 1; id <= 200; id++) {
      const country = countries[id % 5]!;
      const amount = (id % 9) + 1.5;
      expected[country] = (expected[country] ?? 0) + (country === "JP" ? amount / 160 : amount);
    }
    for (const [country, total] of Object.entries(expected)) expect(result.totals[country]).toBeCloseTo(total, 6);
    expect(lines.at(-1)).toBe("200 orders read from a sample file, 1 malformed line(s) skipped");
  });

  it("read-lines: reads a file given by path, CRLF line endings included", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sluice-examples-test-"));
    try {
      const file = join(dir, "small.csv");
      await writeFile(file, "id,country,amount\r\n1,FR,2.00\r\n2,JP,320\r\n\r\n3,FR,1.25\r\n");
      const { lines, log } = capture();
      const result = await readLines(log, file);
      expect(result).toEqual({ orders: 3, skipped: 0, totals: { FR: 3.25, JP: 2 } });
      expect(lines).toEqual(["FR  3.25 EUR", "JP  2.00 EUR", `3 orders read from ${file}, 0 malformed line(s) skipped`]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("early-exit: break after ten primes stops an infinite source and runs onDone once", async () => {
    const { lines, log } = capture();
    const result = await earlyExit(log);
    expect(result.primes).toEqual([2, 3, 5, 7, 11, 13, 17, 19, 23, 29]);
    expect(result.doneCalls).toBe(1);
    expect(result.pulled).toBeGreaterThanOrEqual(30);
    expect(result.pulled).toBeLessThan(100);
    expect(lines[0]).toBe("first ten primes: 2, 3, 5, 7, 11, 13, 17, 19, 23, 29");
  });

  it("deadline: the deadline's reason reaches the consumer; what arrived before it is kept", async () => {
    const { lines, log } = capture();
    const result = await deadline(log);
    expect(result.reason).toMatch(/^TimeoutError: /);
    expect(result.rendered.length).toBeGreaterThan(0);
    expect(result.rendered.length).toBeLessThan(100);
    for (const page of result.rendered) expect(page).toMatch(/^page \d+$/);
    expect(result.aborted).toBeGreaterThanOrEqual(1);
    expect(lines[0]).toBe(`rendered ${result.rendered.length} of 100 pages before the deadline`);
  });

  it("metrics-exporter: one JSON line per interval and a final one that accounts for every user", async () => {
    const { lines, log } = capture();
    const result = await metricsExporter(log, 40);
    expect(lines.map((line) => JSON.parse(line) as unknown)).toEqual(result.lines);
    expect(result.lines.length).toBeGreaterThanOrEqual(2);
    const last = result.lines.at(-1)!;
    expect(result.lines.slice(0, -1).every((line) => line.state === "running")).toBe(true);
    expect(last).toMatchObject({ job: "import-users", state: "done", pulled: 500, total: 500, delivered: 0 });
    const { lookup, "has-email": hasEmail, store } = last.stages;
    // Every 7th lookup never answers and times out (skipped); on a slow machine others may too.
    expect(lookup).toMatchObject({ kind: "map", taken: 500, inFlight: 0, failed: 0 });
    expect(lookup!.skipped).toBe(lookup!.timedOut);
    expect(lookup!.skipped).toBeGreaterThanOrEqual(71);
    expect(lookup!.done + lookup!.skipped).toBe(500);
    // Users without an email (every 10th) are filtered out; the rest are stored.
    expect(hasEmail).toMatchObject({ kind: "filter", taken: lookup!.done, done: lookup!.done });
    expect(hasEmail!.emitted + hasEmail!.dropped).toBe(lookup!.done);
    expect(store).toMatchObject({ kind: "each", taken: hasEmail!.emitted, done: hasEmail!.emitted, emitted: 0 });
    expect(result.stored).toBe(store!.done);
    for (const line of result.lines) {
      expect(Date.parse(line.time)).not.toBeNaN();
      for (const s of Object.values(line.stages)) expect(s.taken).toBe(s.inFlight + s.done + s.skipped + s.failed + s.cancelled);
    }
  });

  it("span-tree: the run's span tree, a span per attempt, f's spans under its call's, a batch span per batch with its links", async () => {
    const { lines, log } = capture();
    const { lines: printed } = await spanTree(log);
    expect(printed).toEqual(lines);
    expect(lines[0]).toBe("sluice run done");
    const fetches = lines.filter((line) => line.startsWith("  fetch "));
    expect(fetches.sort()).toEqual([
      "  fetch [0] attempt 1 ok",
      "  fetch [1] attempt 1 error (503 from the order service)",
      "  fetch [1] attempt 2 ok",
      "  fetch [2] attempt 1 ok",
      "  fetch [3] attempt 1 ok",
    ]);
    // Each call's client span is its only child, one level deeper.
    for (const [i, line] of lines.entries()) {
      if (!line.startsWith("  fetch ")) continue;
      expect(lines[i + 1]).toMatch(/^    GET \/orders\/\d$/);
    }
    expect(lines.filter((line) => line.startsWith("  batch "))).toEqual(["  batch [0] 2 links", "  batch [1] 2 links"]);
    expect(lines.filter((line) => line.startsWith("    save "))).toEqual(["    save [0] attempt 1 ok", "    save [1] attempt 1 ok"]);
    expect(lines).toHaveLength(1 + 5 * 2 + 2 * 2);
  });
});

import { afterEach, expect, it, vi } from "vitest";
import type { RunStats } from "@sluice/dsl";
(globalThis as any).__aimd = JSON.parse(process.env.CFG ?? "{}");
const { pipe } = await import("@sluice/dsl");
import { SimulatedService } from "./helpers/simulated-service.js";
import { range } from "./helpers/time.js";

afterEach(() => vi.useRealTimers());

async function runSim(workers: number | "auto", n: number, dropAt?: number) {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "setImmediate", "clearImmediate", "Date", "performance"] });
  const service = new SimulatedService(16, 20, 2, Number(process.env.JIT ?? 0.1));
  const samples: number[] = [];
  const t0 = performance.now();
  let done = false;
  let dropped = -1;
  let below7 = -1;
  const run = pipe(() => range(n))
    .map((x) => service.call(x), { workers, retry: { retries: 50, minDelay: 5, maxDelay: 50 }, name: "call" })
    .run({ progressInterval: 10, onProgress: (s: RunStats) => { samples.push(s.stages[0]!.limit); } })
    .then(() => { done = true; });
  while (!done) {
    await vi.advanceTimersByTimeAsync(5);
    const now = performance.now() - t0;
    if (dropAt !== undefined && dropped < 0 && now >= dropAt) { service.knee = 4; dropped = now; }
    if (dropped >= 0 && below7 < 0 && samples.at(-1)! < 7) below7 = now - dropped;
  }
  await run;
  const elapsed = performance.now() - t0;
  vi.useRealTimers();
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  return { workers, elapsed, throughput: (n / elapsed) * 1000, mean, pushed: service.refused / service.calls, calls: service.calls, below7, tail: samples.slice(-20).join(",") };
}

it("tune", async () => {
  for (const w of (process.env.FIXED ? [4, 8, 10, 11, 12, 13, 14, 16, "auto" as const] : ["auto" as const])) console.log(JSON.stringify(await runSim(w, 2000)));
  console.log(JSON.stringify(await runSim("auto", 2000, 2000)));
  expect(1).toBe(1);
}, 120_000);

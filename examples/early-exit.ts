// Early exit: leave a `for await` loop with `break` and the run is torn down. The source is
// infinite, yet only a bounded number of its elements are ever pulled, the in-flight calls
// see ctx.signal abort, and onDone runs once before the loop statement completes.
// Run: npx -y pnpm@10 examples && node examples/dist/early-exit.js
import { fileURLToPath } from "node:url";
import { pipe } from "@sluice/dsl";

// An abortable sleep. It removes its listener when it ends, as code whose signal may outlive
// the call should.
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });

// Pretend this is expensive: a remote check per candidate.
async function isPrime(n: number, signal: AbortSignal): Promise<boolean> {
  await sleep(2 + (n % 5), signal);
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return n >= 2;
}

export async function main(
  log: (line: string) => void = console.log,
): Promise<{ primes: number[]; pulled: number; cancelled: number; doneCalls: number }> {
  let pulled = 0;
  let cancelled = 0;
  let doneCalls = 0;

  function* naturals(): Generator<number> {
    for (let n = 0; ; n++) {
      pulled++;
      yield n;
    }
  }

  const primes: number[] = [];
  const candidates = pipe(naturals)
    .filter(
      async (n, ctx) => {
        try {
          return await isPrime(n, ctx.signal);
        } catch (error) {
          if (ctx.signal.aborted) cancelled++; // torn down by the break below
          throw error;
        }
      },
      { workers: 4, maxsize: 8, onDone: () => void doneCalls++ },
    )
    .ordered();

  for await (const p of candidates) {
    primes.push(p);
    if (primes.length === 10) break; // tears the run down; the loop ends after cleanup
  }

  log(`first ten primes: ${primes.join(", ")}`);
  log(`the infinite source was pulled ${pulled} times; ${cancelled} call(s) were cancelled; onDone ran ${doneCalls} time(s)`);
  return { primes, pulled, cancelled, doneCalls };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();

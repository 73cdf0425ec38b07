// Abort with a deadline: pass a signal to toArray(), iterate(), or run(). When it aborts, the
// run is torn down (in-flight calls see ctx.signal abort, onDone runs) and the consumer sees
// the signal's reason, the same object. With iterate(), what arrived before the deadline is kept.
// Run: npx -y pnpm@10 examples && node examples/dist/deadline.js
import { fileURLToPath } from "node:url";
import { pipe } from "@sluice/dsl";

// A job whose calls take between 20 and 200 ms and stop when `signal` aborts. The listener
// is removed when the call ends, as any code that outlives its listeners should.
function render(page: number, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(`page ${page}`);
    }, 20 + ((page * 37) % 180));
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

export async function main(
  log: (line: string) => void = console.log,
): Promise<{ rendered: string[]; reason: string; aborted: number }> {
  let aborted = 0;
  const pages = Array.from({ length: 100 }, (_, i) => i + 1);
  const job = pipe(pages).map(
    async (page, ctx) => {
      try {
        return await render(page, ctx.signal);
      } catch (error) {
        if (ctx.signal.aborted) aborted++;
        throw error;
      }
    },
    { workers: 4 },
  );

  // AbortSignal.timeout aborts with a DOMException named "TimeoutError". It is not sluice's
  // TimeoutError class, which is about a single call exceeding a stage's `timeout` option.
  const deadline = AbortSignal.timeout(300);
  const rendered: string[] = [];
  let reason = "finished before the deadline";
  try {
    for await (const html of job.iterate({ signal: deadline })) rendered.push(html);
  } catch (error) {
    if (error !== deadline.reason) throw error; // identity: the consumer sees the signal's reason itself
    reason = `${(error as Error).name}: ${(error as Error).message}`;
  }

  log(`rendered ${rendered.length} of ${pages.length} pages before the deadline`);
  log(`stopped by ${reason}; ${aborted} in-flight call(s) were aborted`);
  return { rendered, reason, aborted };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();

/**
 * The page test/browser/chromium.test.ts loads in Chromium, bundled with the built
 * @sluice/dsl. It runs one pipeline per feature and leaves what it saw in `sluiceResults` (a
 * promise) for the test to read; the test asserts it. Kept to what a browser has: no Node
 * global is used, and the test checks that none exists.
 */
import { pipe } from "@sluice/dsl";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function mapFilterOrdered() {
  const values = await pipe(Array.from({ length: 300 }, (_, i) => i))
    .map(async (x) => {
      await sleep(x % 3);
      return x * 2;
    }, { workers: 4 })
    .filter((x) => x % 3 === 0)
    .ordered();
  return { count: values.length, first: values.slice(0, 3), last: values.at(-1) };
}

async function batchWithRateLimit() {
  const starts: number[] = [];
  const batches = await pipe(Array.from({ length: 10 }, (_, i) => i))
    .batch(3, { maxWait: 20 })
    .map((batch) => (starts.push(performance.now()), batch), { workers: 4, rateLimit: { limit: 2, interval: 50 } })
    .toArray();
  return { batches, starts };
}

async function abort() {
  const controller = new AbortController();
  let pulled = 0;
  let closed = false;
  async function* endless(): AsyncGenerator<number> {
    try {
      for (;;) {
        pulled++;
        yield pulled;
        await sleep(1);
      }
    } finally {
      closed = true;
    }
  }
  let seen = 0;
  const reason = await pipe(endless)
    .map((x) => {
      if (++seen === 5) controller.abort(new Error("stop at 5"));
      return x;
    })
    .toArray({ signal: controller.signal })
    .then(
      () => "resolved",
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );
  return { reason, closed, pulledAtMost: pulled };
}

async function streamIntoResponse() {
  const body = pipe(["a", "b", "c"])
    .map((letter, { index }) => `${JSON.stringify({ letter, index })}\n`)
    .toReadableStream()
    .pipeThrough(new TextEncoderStream());
  const response = new Response(body, { headers: { "content-type": "application/x-ndjson" } });
  return { type: response.headers.get("content-type"), text: await response.text() };
}

async function run() {
  return {
    globals: { process: typeof (globalThis as Record<string, unknown>)["process"], require: typeof (globalThis as Record<string, unknown>)["require"] },
    mapFilterOrdered: await mapFilterOrdered(),
    batchWithRateLimit: await batchWithRateLimit(),
    abort: await abort(),
    streamIntoResponse: await streamIntoResponse(),
  };
}

(globalThis as Record<string, unknown>)["sluiceResults"] = run().catch((error: unknown) => ({
  error: error instanceof Error ? `${error.name}: ${error.message}\n${error.stack}` : String(error),
}));

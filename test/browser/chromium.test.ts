/**
 * The built packages in a real browser: test/browser/page.ts, bundled with the workspace's
 * built @sluice/dsl by esbuild for the browser, served from 127.0.0.1 and run in Debian's
 * Chromium (`.ci/run` installs it when missing) driven by playwright-core. The page runs map,
 * filter, ordered, a batch under a rate limit, an abort and a `toReadableStream()` read through
 * a `Response`; this file asserts what it reports. A missing Chromium is a failure, not a skip.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { chromium, type BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const CHROMIUM = "/usr/bin/chromium";
// No sandbox (CI runs as root in a container), no GPU, and nothing that reaches the network on
// its own: CI's network is closed, and a browser waiting on it would only slow the run.
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

interface Results {
  readonly error?: string;
  readonly globals: { process: string; require: string };
  readonly mapFilterOrdered: { count: number; first: number[]; last: number };
  readonly batchWithRateLimit: { batches: number[][]; starts: number[] };
  readonly abort: { reason: string; closed: boolean; pulledAtMost: number };
  readonly streamIntoResponse: { type: string | null; text: string };
}

let server: Server | undefined;
let profile = "";
let browser: BrowserContext | undefined;
let results: Results;

beforeAll(async () => {
  const bundle = await build({
    entryPoints: [join(here, "page.ts")],
    bundle: true,
    format: "iife",
    platform: "browser",
    target: "es2022",
    write: false,
    logLevel: "silent",
  });
  const script = bundle.outputFiles[0]!.text;
  server = createServer((request, response) => {
    if (request.url === "/page.js") {
      response.writeHead(200, { "content-type": "text/javascript" }).end(script);
    } else {
      response.writeHead(200, { "content-type": "text/html" }).end('<!doctype html><title>sluice</title><script src="/page.js"></script>');
    }
  });
  await new Promise<void>((listening) => server!.listen(0, "127.0.0.1", listening));
  const { port } = server.address() as AddressInfo;

  // A fresh profile each run (playwright passes it as --user-data-dir).
  profile = await mkdtemp(join(tmpdir(), "sluice-chromium-"));
  browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS });
  const page = browser.pages()[0] ?? (await browser.newPage());
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(`http://127.0.0.1:${port}/`);
  results = (await page.evaluate(() => (globalThis as Record<string, unknown>)["sluiceResults"])) as Results;
  expect(errors).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await new Promise((closed) => (server === undefined ? closed(undefined) : server.close(closed)));
  if (profile !== "") await rm(profile, { recursive: true, force: true });
});

describe("the built packages in Chromium", () => {
  it("run in a page with no Node globals", () => {
    expect(results.error).toBeUndefined();
    expect(results.globals).toEqual({ process: "undefined", require: "undefined" });
  });

  it("map with workers, filter and ordered give the Array chain's result in source order", () => {
    expect(results.mapFilterOrdered).toEqual({ count: 100, first: [0, 6, 12], last: 594 });
  });

  it("batch passes every element once in source-order chunks, and the rate limit holds 2 calls per 50 ms", () => {
    const { batches, starts } = results.batchWithRateLimit;
    expect(batches.flat().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(batches.map((chunk) => chunk.length).sort()).toEqual([1, 3, 3, 3]);
    expect(starts).toHaveLength(4);
    // The third call may start only once the first has left the 50 ms window (2 ms of slack
    // for the two clocks' resolution, as test/rate-limit.test.ts allows).
    expect(starts[2]! - starts[0]!).toBeGreaterThanOrEqual(48);
    expect(starts[3]! - starts[1]!).toBeGreaterThanOrEqual(48);
  });

  it("an aborted signal rejects the run with its reason and closes the source", () => {
    const { reason, closed, pulledAtMost } = results.abort;
    expect(reason).toBe("stop at 5");
    expect(closed).toBe(true);
    // The source ran ahead by at most the buffers' room (a few elements), not without end.
    expect(pulledAtMost).toBeGreaterThanOrEqual(5);
    expect(pulledAtMost).toBeLessThan(50);
  });

  it("toReadableStream() feeds a Response, which reads the elements back as NDJSON", () => {
    expect(results.streamIntoResponse).toEqual({
      type: "application/x-ndjson",
      text: '{"letter":"a","index":[0]}\n{"letter":"b","index":[1]}\n{"letter":"c","index":[2]}\n',
    });
  });
});

/**
 * Installs the packages the way a user gets them: `pnpm pack` tarballs, installed with npm into
 * a fresh project outside the workspace (zod comes from the registry). Then checks what issue 13
 * found broken: import and require() at run time, the public types under three module
 * resolution modes without skipLibCheck, and a browser bundle's size and independence from Node.
 */
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { runInNewContext } from "node:vm";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BASE_GOAL, FEATURES, baseBreakdown, breakdownTable, bundleSizes, sizeTable } from "../../scripts/bundle-sizes.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
/**
 * The gzipped size a browser bundle of a small pipeline (sluice and zod/mini) must stay under.
 * Element outcomes (retry, onError, parse) took it to 17.6 KB and source settlement to 18.0 KB.
 * Run stats (docs/behaviour.md §12: the counters, the snapshot, the progress timer) add about 0.9 KB to the
 * engine every run goes through, so no bundler can leave them out: 19,416 B measured. The
 * fixes of issue 21 add 1.3 KB more, all of it code every run carries (OptionsError's issues,
 * the one-shot source check, the limiter's checked pauses, outcome handlers' signal, the
 * element in a for-await loop's hand): 20,695 B measured, and 22 KiB leaves about 1.8 KB.
 * Adaptive concurrency and costs (issue 24) are code every run carries too, since any stage's
 * options may name them (the AIMD controller, the stage's timing of calls, units in the rate
 * limiter, the checks of `workers` bounds and `cost`): 22,825 B measured, over 22 KiB, so the
 * budget is 23 KiB (about 0.7 KB left).
 * The rest of that round (per-key order, telemetry's run tracing, drain and checkpoints, the
 * TC39 operators and fallback) is likewise carried by every bundle, because the engine builds
 * whatever a stage's options name: 26,682 B measured, so the budget is 28 KiB. That is 11 KB
 * over the 15 KB goal of docs/benchmarks.md ("Browser bundle"), which names the two ways down:
 * checking the common options without zod (about 5 KB) and stage kinds the engine builds from
 * what the pipeline's methods register (so unused ones drop out of a bundle).
 * Each byte here is one a browser user downloads: shrink before raising it again.
 */
const BUNDLE_BUDGET = 28 * 1024;
const WORKERS_MESSAGE = "map(): options.workers must be an integer >= 1 (received 0)";

let work = "";
let app = "";

function sh(file: string, args: readonly string[], cwd: string): string {
  return execFileSync(file, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** Type-checks the consumer with `tsconfig.<mode>.json`: tsc's errors and the files it read. */
function typecheck(mode: string): { errors: string[]; files: string[] } {
  let output: string;
  try {
    output = sh(process.execPath, [tsc, "-p", `tsconfig.${mode}.json`, "--listFiles"], app);
  } catch (error) {
    output = String((error as { stdout?: unknown }).stdout ?? error);
  }
  const lines = output.split("\n").filter((line) => line.trim() !== "");
  const isFile = (line: string) => line.startsWith("/") && !line.includes("error TS");
  return { errors: lines.filter((line) => !isFile(line)), files: lines.filter(isFile) };
}

// A small pipeline every runtime check runs: 3000 elements (more than one reader batch, so
// the engine's yield to the event loop runs too), 4 workers, an option error's exact message.
const PIPELINE = `
const pipeline = pipe(() => Array.from({ length: 3000 }, (_, i) => i))
  .map(async (x) => x * 2, { workers: 4 })
  .filter((x) => x % 3 === 0)
  .ordered();
let message = "";
try {
  pipe([1]).map((x) => x, { workers: 0 });
} catch (error) {
  message = error.message;
}
pipeline.toArray().then((values) =>
  report(JSON.stringify({ count: values.length, first: values.slice(0, 3), last: values.at(-1), message })),
);
`;
const EXPECTED = { count: 1000, first: [0, 6, 12], last: 5994, message: WORKERS_MESSAGE };

// Compiles in every mode; the @ts-expect-error lines fail the check if the types let them pass.
const TYPED_CONSUMER = `
import { OptionsError, pipe, type StageOptions } from "@sluice/dsl";

export const lengths: Promise<number[]> = pipe(["a", "bb"]).map((word) => word.length, { workers: 2 }).toArray();
// @ts-expect-error: the pipeline yields numbers, not strings
export const wrong: Promise<string[]> = pipe([1, 2]).map((x) => x * 2).toArray();
export const options: StageOptions = { workers: 2, onTimeout: "skip" };
// @ts-expect-error: "retry" is not a timeout policy
export const badOptions: StageOptions = { onTimeout: "retry" };
export const isOptionsError = (error: unknown): boolean => error instanceof OptionsError;
`;

// @sluice/piscina: a stage on a shared pool, one on a pool of its own, a worker's error.
const THREADS_CONSUMER = `
import { Piscina } from "piscina";
import { pipe } from "@sluice/dsl";
import { ThreadError, mapOnThreads, onThreads } from "@sluice/piscina";
const worker = new URL("./square-worker.mjs", import.meta.url);
const pool = new Piscina({ filename: worker.href, maxThreads: 2 });
const shared = await pipe([1, 2, 3]).map((value) => ({ value })).map(onThreads(pool), { workers: 2 }).ordered();
await pool.destroy();
const owned = await pipe([4, 5]).map((value) => ({ value })).through(mapOnThreads(worker, { workers: 2 })).ordered();
const error = await pipe([0]).through(mapOnThreads(worker, { pool: { name: "fail" } })).toArray().catch((e) => e);
console.log(JSON.stringify({ shared, owned, error: error instanceof ThreadError ? error.message : String(error) }));
`;
const THREADS_EXPECTED = {
  shared: [1, 4, 9],
  owned: [16, 25],
  error: "map#1: RangeError: no (in a worker thread; element [0])",
};

const TYPED_THREADS_CONSUMER = `
import { Piscina } from "piscina";
import { pipe, type Pipeline } from "@sluice/dsl";
import { ThreadError, mapOnThreads, onThreads } from "@sluice/piscina";
type Square = (task: { value: number }) => number;
const pool = new Piscina({ filename: "./square-worker.mjs" });
export const squares: Pipeline<number> = pipe([{ value: 1 }]).map(onThreads<Square>(pool), { workers: 2 });
export const owned: Pipeline<number> = pipe([{ value: 1 }]).through(mapOnThreads<Square>("./square-worker.mjs", { threads: 1 }));
// @ts-expect-error: the worker takes { value }, not strings
pipe(["x"]).map(onThreads<Square>(pool));
export const isThreadError = (error: unknown): boolean => error instanceof ThreadError && !error.crashed;
`;

// @sluice/otel on the registry's @opentelemetry/api, with no SDK registered: the API's no-op
// tracer and meter, so a run is traced into nothing and gives its results as ever.
const OTEL_CONSUMER = `
import { pipe } from "@sluice/dsl";
import { jobTraceContext, otelTelemetry, traceMetadata } from "@sluice/otel";
const telemetry = otelTelemetry();
const values = await pipe([1, 2, 3, 4]).map(async (x) => x * 2, { retry: 1 }).batch(2).toArray({ telemetry });
console.log(JSON.stringify({ values, metadata: traceMetadata(), parent: jobTraceContext({ opts: {} }) ?? null }));
`;
const OTEL_EXPECTED = { values: [[2, 4], [6, 8]], metadata: "{}", parent: null };

const TYPED_OTEL_CONSUMER = `
import { trace, type Context } from "@opentelemetry/api";
import { pipe, type Telemetry } from "@sluice/dsl";
import { jobTraceContext, otelTelemetry } from "@sluice/otel";
export const telemetry: Telemetry = otelTelemetry({ tracer: trace.getTracer("app") });
export const done: Promise<void> = pipe([1]).run({ telemetry });
export const parent: Context | undefined = jobTraceContext({});
// @ts-expect-error: a tracer, not a string
otelTelemetry({ tracer: "app" });
`;

const COMPILER_OPTIONS = {
  strict: true,
  noEmit: true,
  target: "ES2022",
  lib: ["ES2022", "DOM"],
  types: [],
  skipLibCheck: false,
};

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "sluice-consumer-"));
  const packs = join(work, "packs");
  app = join(work, "app");
  await mkdir(packs);
  await mkdir(join(app, "src"), { recursive: true });
  for (const dir of ["packages/core", "packages/dsl", "packages/piscina", "packages/otel"]) {
    sh("npx", ["-y", "pnpm@10", "pack", "--pack-destination", packs], join(root, dir));
  }
  const tarballs = await readdir(packs);
  const tarball = (name: string) => {
    const file = tarballs.find((entry) => entry.startsWith(`sluice-${name}-`));
    if (file === undefined) throw new Error(`no tarball for @sluice/${name} in ${tarballs.join(", ")}`);
    return `file:${join(packs, file)}`;
  };
  // The zod the workspace's lockfile tests with, so the bundle budget measures sluice against a
  // known zod: a newer 4.x on the registry must not turn CI red on its own (the budget has
  // little headroom; docs/design.md §15). A user gets the newest 4.x, which the range allows.
  // The version of `name` installed for the workspace package at `from` (piscina's exports
  // map hides its package.json: walk up from its entry point instead).
  const versionIn = async (from: string, name: string) => {
    const require = createRequire(join(root, from));
    try {
      return (JSON.parse(await readFile(require.resolve(`${name}/package.json`), "utf8")) as { version: string }).version;
    } catch {
      // not exported: found below from the entry point
    }
    let dir = dirname(require.resolve(name));
    for (;;) {
      const manifest = JSON.parse(await readFile(join(dir, "package.json"), "utf8").catch(() => "{}")) as { name?: string; version?: string };
      if (manifest.name === name && manifest.version !== undefined) return manifest.version;
      if (dirname(dir) === dir) throw new Error(`no package.json of ${name} above its entry point`);
      dir = dirname(dir);
    }
  };
  const zodVersion = await versionIn("packages/dsl/package.json", "zod");
  const manifest = {
    name: "sluice-consumer",
    private: true,
    type: "module",
    dependencies: {
      "@sluice/core": tarball("core"),
      "@sluice/dsl": tarball("dsl"),
      "@sluice/piscina": tarball("piscina"),
      "@sluice/otel": tarball("otel"),
      "@opentelemetry/api": await versionIn("packages/otel/package.json", "@opentelemetry/api"),
      // The versions the workspace tests with, for the same reason as zod's.
      piscina: await versionIn("packages/piscina/package.json", "piscina"),
      "@types/node": await versionIn("package.json", "@types/node"),
    },
    overrides: { zod: zodVersion },
  };
  const files: Record<string, string> = {
    "package.json": JSON.stringify(manifest, null, 2),
    "esm.mjs": `import { pipe } from "@sluice/dsl";\nconst report = console.log;\n${PIPELINE}`,
    "cjs.cjs": `const { pipe } = require("@sluice/dsl");\nconst report = console.log;\n${PIPELINE}`,
    "browser.mjs": `import { pipe } from "@sluice/dsl";\n${PIPELINE}`,
    "src/index.ts": TYPED_CONSUMER,
    "square-worker.mjs": "export default ({ value }) => value * value;\nexport function fail() { throw new RangeError('no'); }\n",
    "threads.mjs": THREADS_CONSUMER,
    "src/threads.ts": TYPED_THREADS_CONSUMER,
    "otel.mjs": OTEL_CONSUMER,
    "src/otel.ts": TYPED_OTEL_CONSUMER,
    "tsconfig.otel.json": JSON.stringify({
      compilerOptions: { ...COMPILER_OPTIONS, module: "nodenext", moduleResolution: "nodenext" },
      include: ["src/otel.ts"],
    }),
    "tsconfig.threads.json": JSON.stringify({
      compilerOptions: { ...COMPILER_OPTIONS, module: "nodenext", moduleResolution: "nodenext", types: ["node"] },
      include: ["src/threads.ts"],
    }),
    "src/legacy.cts": `import dsl = require("@sluice/dsl");\nexport const run: Promise<number[]> = dsl.pipe([1]).toArray();\n// @ts-expect-error: not a string array\nexport const bad: Promise<string[]> = dsl.pipe([1]).toArray();\n`,
    "tsconfig.nodenext.json": JSON.stringify({
      compilerOptions: { ...COMPILER_OPTIONS, module: "nodenext", moduleResolution: "nodenext" },
      include: ["src/index.ts", "src/legacy.cts"],
    }),
    "tsconfig.bundler.json": JSON.stringify({
      compilerOptions: { ...COMPILER_OPTIONS, module: "esnext", moduleResolution: "bundler" },
      include: ["src/index.ts"],
    }),
    "tsconfig.node10.json": JSON.stringify({
      compilerOptions: { ...COMPILER_OPTIONS, module: "commonjs", moduleResolution: "node10" },
      include: ["src/index.ts"],
    }),
  };
  for (const [name, text] of Object.entries(files)) await writeFile(join(app, name), text);
  sh("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"], app);
});

afterAll(async () => {
  if (work !== "") await rm(work, { recursive: true, force: true });
});

describe("the packed packages, installed with npm into a fresh project", () => {
  it("run from an ES module", () => {
    expect(JSON.parse(sh(process.execPath, ["esm.mjs"], app))).toEqual(EXPECTED);
  });

  it("run from CommonJS with require()", () => {
    expect(JSON.parse(sh(process.execPath, ["cjs.cjs"], app))).toEqual(EXPECTED);
  });

  it.each(["nodenext", "bundler", "node10"])("type-check under moduleResolution %s without skipLibCheck", (mode) => {
    const { errors, files } = typecheck(mode);
    expect(errors).toEqual([]);
    expect(files.some((file) => file.endsWith("/node_modules/@sluice/dsl/dist/index.d.ts"))).toBe(true);
    // The public declarations never mention zod, so a consumer's type check never reads zod's.
    expect(files.filter((file) => file.includes("/node_modules/zod/"))).toEqual([]);
  });

  it("@sluice/piscina: run stages on worker threads from an ES module, piscina from the registry", () => {
    expect(JSON.parse(sh(process.execPath, ["threads.mjs"], app))).toEqual(THREADS_EXPECTED);
  });

  it("@sluice/piscina: type-check under moduleResolution nodenext without skipLibCheck", () => {
    const { errors, files } = typecheck("threads");
    expect(errors).toEqual([]);
    expect(files.some((file) => file.endsWith("/node_modules/@sluice/piscina/dist/index.d.ts"))).toBe(true);
  });

  it("@sluice/otel: trace a run from an ES module, @opentelemetry/api from the registry and no SDK", () => {
    expect(JSON.parse(sh(process.execPath, ["otel.mjs"], app))).toEqual(OTEL_EXPECTED);
  });

  it("@sluice/otel: type-check under moduleResolution nodenext without skipLibCheck", () => {
    const { errors, files } = typecheck("otel");
    expect(errors).toEqual([]);
    expect(files.some((file) => file.endsWith("/node_modules/@sluice/otel/dist/index.d.ts"))).toBe(true);
  });

  it("bundle for the browser within the size budget, with no Node module, and run without setImmediate", async () => {
    const result = await build({
      entryPoints: [join(app, "browser.mjs")],
      absWorkingDir: app,
      bundle: true,
      minify: true,
      format: "iife",
      platform: "browser",
      target: "es2022",
      write: false,
      metafile: true,
      logLevel: "silent",
    });
    const code = result.outputFiles[0]!.text;
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((input) => input.includes("@sluice/dsl"))).toBe(true);
    expect(inputs.filter((input) => input.startsWith("node:"))).toEqual([]);
    expect(code).not.toMatch(/["'`]node:/);
    const gzipped = gzipSync(code).length;
    console.log(`browser bundle: ${code.length} bytes, ${gzipped} bytes gzipped (budget ${BUNDLE_BUDGET})`);
    expect(gzipped).toBeLessThan(BUNDLE_BUDGET);

    // A context with a browser's timer and abort globals, and no setImmediate, process or require.
    const reported = new Promise<string>((report, fail) => {
      const context = { report, setTimeout, clearTimeout, queueMicrotask, AbortController, AbortSignal, EventTarget, Event, DOMException };
      runInNewContext(code, context);
      setTimeout(() => fail(new Error("the bundle reported nothing within 10 s")), 10_000).unref();
    });
    expect(runInNewContext("typeof setImmediate + typeof process + typeof require", {})).toBe("undefinedundefinedundefined");
    expect(JSON.parse(await reported)).toEqual(EXPECTED);
  });

  it("report the gzipped size of pipe().map().filter() against the 15 KB goal, and what each feature adds", async () => {
    const sizes = await bundleSizes(app);
    const breakdown = await baseBreakdown(app);
    console.log(
      `${sizeTable(sizes)}\n\n${breakdownTable(breakdown)}\n\n` +
        `pipe().map().filter(): ${sizes[0]!.gzipped} B gzipped, goal ${BASE_GOAL} B; ${breakdown.gzippedWithoutZod} B without zod/mini`,
    );
    expect(sizes.map((size) => size.name)).toEqual(FEATURES.map((feature) => feature.name));
    expect(sizes.flatMap((size) => size.nodeModules)).toEqual([]);
    for (const size of sizes) expect(size.gzipped).toBeLessThan(BUNDLE_BUDGET);
    // Every feature's modules are found in the base bundle (a renamed file would read as 0 B).
    for (const group of breakdown.groups) expect(group.bytes, group.name).toBeGreaterThan(0);
  });
});

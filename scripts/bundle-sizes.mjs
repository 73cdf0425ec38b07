// What a browser downloads for a small pipeline, and what each feature adds on top: each entry
// below is bundled (esbuild, minified, for the browser) with @sluice/dsl as `dir` resolves it,
// and gzipped. The packaging test (test/packaging/consumer.test.ts) runs it on the packed
// packages and reports the table; docs/benchmarks.md ("Browser bundle") shows it.
//
//   pnpm build && node scripts/bundle-sizes.mjs    the table for the workspace's built packages
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

/** The gzipped size `pipe().map().filter()` with options validated should stay within (docs/benchmarks.md). */
export const BASE_GOAL = 15 * 1024;

const BASE = `pipe(source).map((x) => x * 2, { workers: 4 }).filter((x) => x % 3 === 0)`;

/** The base pipeline, then one feature each on top of it: name, import list, the pipeline's code. */
export const FEATURES = [
  { name: "pipe().map().filter()", imports: "pipe", code: `${BASE}.toArray()` },
  { name: "+ ordered()", imports: "pipe", code: `${BASE}.ordered()` },
  { name: "+ rateLimit", imports: "pipe", code: `${BASE}.map((x) => x, { rateLimit: { limit: 10, interval: 1000 } }).toArray()` },
  { name: "+ shared rateLimiter()", imports: "pipe, rateLimiter", code: `${BASE}.map((x) => x, { rateLimit: rateLimiter({ limit: 10, interval: 1000 }) }).toArray()` },
  { name: "+ batch(size, { maxWait })", imports: "pipe", code: `${BASE}.batch(10, { maxWait: 50 }).toArray()` },
  { name: "+ retry, onError", imports: "pipe", code: `${BASE}.map((x) => x, { retry: 3, onError: "collect" }).toResult()` },
  { name: "+ timeout", imports: "pipe", code: `${BASE}.map((x) => x, { timeout: 1000, onTimeout: "skip" }).toArray()` },
  { name: "+ flatMap()", imports: "pipe", code: `${BASE}.flatMap((x) => [x, x]).toArray()` },
  { name: "+ concat()", imports: "pipe, concat", code: `concat([${BASE}, pipe([1])]).toArray()` },
  { name: "+ toReadableStream()", imports: "pipe", code: `new Response(${BASE}.toReadableStream().pipeThrough(new TextEncoderStream()))` },
  { name: "+ stats, onProgress", imports: "pipe", code: `${BASE}.toArray({ onProgress: (stats) => console.log(stats), progressInterval: 100 })` },
];

/**
 * Where the base bundle's bytes come from, by feature: the modules each feature owns (matched on
 * their path). The engine reaches every kind of stage from one plan, so a bundler keeps them all
 * even in a pipeline that uses none; these are the minified bytes each one costs every user.
 */
export const FEATURE_MODULES = [
  { name: "zod/mini (option validation)", path: /\/zod\// },
  { name: "element outcomes (retry, onError, parse)", path: /\/(element-outcomes|standard-schema)\.js$/ },
  { name: "batches", path: /\/(batch-stage|batch-options)\.js$/ },
  { name: "rate limits", path: /\/rate-limiter\.js$/ },
  { name: "run stats and progress", path: /\/(progress|run-stats|stage-counters)\.js$/ },
  { name: "flatMap expansions", path: /\/expansion\.js$/ },
  { name: "ordered", path: /\/(ordered-stage|order-buffer)\.js$/ },
  { name: "onStart/onDone hooks", path: /\/stage-hooks\.js$/ },
  { name: "concat", path: /\/(concat-stage|concat)\.js$/ },
];

function bundle(dir, contents, external = []) {
  return build({
    stdin: { contents, resolveDir: dir, loader: "js" },
    bundle: true,
    minify: true,
    format: "iife",
    platform: "browser",
    target: "es2022",
    external,
    write: false,
    metafile: true,
    logLevel: "silent",
  });
}

const entry = (feature) => `import { ${feature.imports} } from "@sluice/dsl";\nconst source = [1, 2, 3];\nglobalThis.result = ${feature.code};\n`;

/**
 * The base bundle's minified bytes per {@link FEATURE_MODULES} entry, the total, and the gzipped
 * size the base would have without zod (marked external).
 */
export async function baseBreakdown(dir) {
  const result = await bundle(dir, entry(FEATURES[0]));
  const inputs = Object.entries(Object.values(result.metafile.outputs)[0].inputs);
  const groups = FEATURE_MODULES.map(({ name, path }) => ({
    name,
    bytes: inputs.filter(([file]) => path.test(file)).reduce((sum, [, input]) => sum + input.bytesInOutput, 0),
  }));
  const withoutZod = await bundle(dir, entry(FEATURES[0]), ["zod", "zod/mini"]);
  return { total: result.outputFiles[0].text.length, groups, gzippedWithoutZod: gzipSync(withoutZod.outputFiles[0].text).length };
}

/**
 * Bundles each of {@link FEATURES} against the @sluice/dsl that `dir` resolves, and returns its
 * name, minified and gzipped sizes, and the Node modules the bundle pulled in (none expected).
 */
export async function bundleSizes(dir) {
  const sizes = [];
  for (const feature of FEATURES) {
    const result = await bundle(dir, entry(feature));
    const code = result.outputFiles[0].text;
    const nodeModules = Object.keys(result.metafile.inputs).filter((input) => input.startsWith("node:"));
    sizes.push({ name: feature.name, bytes: code.length, gzipped: gzipSync(code).length, nodeModules });
  }
  return sizes;
}

const bytes = (n) => `${n.toLocaleString("en-US")} B`;

/** The sizes as a Markdown table: each bundle's gzipped size and what its feature adds to the base. */
export function sizeTable(sizes) {
  const base = sizes[0].gzipped;
  const rows = sizes.map(({ name, gzipped }, i) =>
    `| \`${name}\` | ${bytes(gzipped)} | ${i === 0 ? `goal ${bytes(BASE_GOAL)}` : `${gzipped >= base ? "+" : "−"}${Math.abs(gzipped - base)} B`} |`,
  );
  return ["| Bundle | gzipped | adds |", "| --- | ---: | ---: |", ...rows].join("\n");
}

/** The breakdown as a Markdown table: the minified bytes of each feature's modules in the base bundle. */
export function breakdownTable({ total, groups }) {
  const rows = groups.map(({ name, bytes: n }) => `| ${name} | ${bytes(n)} | ${((100 * n) / total).toFixed(0)} % |`);
  return ["| In the base bundle | minified | share |", "| --- | ---: | ---: |", ...rows, `| all of it | ${bytes(total)} | 100 % |`].join("\n");
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dsl = resolve(dirname(fileURLToPath(import.meta.url)), "../packages/dsl");
  const breakdown = await baseBreakdown(dsl);
  console.log(`${sizeTable(await bundleSizes(dsl))}\n\n${breakdownTable(breakdown)}\n\nwithout zod: ${bytes(breakdown.gzippedWithoutZod)} gzipped`);
}

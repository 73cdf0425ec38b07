// Which test files are portable: those that need no Node module, so that Deno and Bun run them
// as they are (test/portable.vitest.config.ts; docs/behaviour.md "Runtimes"). Computed, never
// listed by hand, so a new test file is picked up (or left out) by what it imports.
//
// A file is portable when nothing it reaches imports a Node built-in (`node:x` or a bare
// built-in name) or a package other than the ones @sluice/core and @sluice/dsl depend on and
// the test tools (vitest, fast-check). It reaches its relative imports and the workspace
// packages it names (@sluice/x, read from packages/x/src), transitively. Type-only imports
// are erased before any runtime sees them, so they do not count.
//
//   node scripts/portable-tests.mjs    lists the portable files, then the others with the reason
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** Test folders that are not run by the main suite (their own configs), never portable. */
const OWN_RUNS = ["test/packaging/", "test/browser/", "test/types/"];
const TEST_TOOLS = ["vitest", "fast-check"];

const builtins = new Set(builtinModules);
// `import x from "m"`, `export { x } from "m"`, `import "m"`, `import("m")`, `require("m")`;
// group 1 is `type ` when the whole statement is type-only.
const SPECIFIER = /(?:^|[\s;])(?:import|export)\s+(type\s+)?(?:[^"'`;]*?\sfrom\s+)?["']([^"']+)["']|(?:import|require)\(\s*["']([^"']+)["']\s*\)/g;

/** The package a bare specifier names: `zod` of `zod/mini`, `@scope/name` of `@scope/name/x`. */
function packageOf(specifier) {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

function readJson(file) {
  return JSON.parse(readFileSync(file, "utf8"));
}

/** The third-party packages a portable file may import: core's and dsl's dependencies, and the test tools. */
function allowedPackages() {
  const allowed = new Set(TEST_TOOLS);
  for (const name of ["core", "dsl"]) {
    const manifest = readJson(join(root, "packages", name, "package.json"));
    for (const dependency of Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies })) allowed.add(dependency);
  }
  return allowed;
}

/** `./x.js` as the file that is on disk: x.ts, x.mts, x.cts or x.js itself (or a folder's index). */
function resolveRelative(from, specifier) {
  const base = resolve(dirname(from), specifier);
  const stem = base.replace(/\.(m|c)?js$/, "");
  const candidates = [base, `${stem}.ts`, `${stem}.mts`, `${stem}.cts`, join(base, "index.ts")];
  const found = candidates.find((file) => existsSync(file) && statSync(file).isFile());
  if (found === undefined) throw new Error(`${relative(root, from)}: cannot resolve ${specifier}`);
  return found;
}

/** The source entry of a workspace package, or undefined when `name` is not one. */
function workspaceEntry(name) {
  if (!name.startsWith("@sluice/")) return undefined;
  const entry = join(root, "packages", name.slice("@sluice/".length), "src", "index.ts");
  return existsSync(entry) ? entry : undefined;
}

/**
 * Why `file` cannot run outside Node (the first Node-only import it reaches, with the chain of
 * files that led there), or undefined when it can.
 */
function whyNotPortable(file, allowed, verdicts, visiting = new Set()) {
  if (verdicts.has(file)) return verdicts.get(file);
  if (visiting.has(file)) return undefined;
  visiting.add(file);
  let reason;
  // Comments are not code: a TSDoc example's `import` must not count.
  const code = readFileSync(file, "utf8").replace(/\/\*[^]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  for (const match of code.matchAll(SPECIFIER)) {
    if (match[1] !== undefined) continue;
    const specifier = match[2] ?? match[3];
    let next;
    if (specifier.startsWith(".")) next = resolveRelative(file, specifier);
    else if (specifier.startsWith("node:") || builtins.has(specifier)) reason = `imports ${specifier}`;
    else if ((next = workspaceEntry(packageOf(specifier))) === undefined && !allowed.has(packageOf(specifier))) {
      reason = `imports ${packageOf(specifier)}`;
    }
    if (next !== undefined) {
      const inner = whyNotPortable(next, allowed, verdicts, visiting);
      if (inner !== undefined) reason = `${relative(root, next)} ${inner}`;
    }
    if (reason !== undefined) break;
  }
  verdicts.set(file, reason);
  return reason;
}

function testFiles(dir) {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return testFiles(path);
    return entry.name.endsWith(".test.ts") ? [path] : [];
  });
}

/** Every test file of the main suite (paths relative to the repository), with why it is not portable. */
export function classifyTestFiles() {
  const allowed = allowedPackages();
  const verdicts = new Map();
  return testFiles("test")
    .filter((path) => !OWN_RUNS.some((folder) => path.startsWith(folder)))
    .sort()
    .map((path) => ({ path, reason: whyNotPortable(join(root, path), allowed, verdicts) }));
}

/** The test files that need no Node module (paths relative to the repository). */
export function portableTestFiles() {
  return classifyTestFiles()
    .filter((file) => file.reason === undefined)
    .map((file) => file.path);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const files = classifyTestFiles();
  for (const file of files.filter((f) => f.reason === undefined)) console.log(`portable      ${file.path}`);
  for (const file of files.filter((f) => f.reason !== undefined)) console.log(`Node only     ${file.path}: ${file.reason}`);
}

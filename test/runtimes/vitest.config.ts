import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { portableTestFiles } from "../../scripts/portable-tests.mjs";

// The main suite's files that need no Node module, run under Deno and Bun (pnpm run test:deno,
// pnpm run test:bun): vitest itself runs in that runtime, and so do its test workers. The list
// is computed from what each file imports (scripts/portable-tests.mjs). No type checking (the
// Node run does it) and no Redis (no portable file uses one).
export default defineConfig({
  test: {
    root: fileURLToPath(new URL("../..", import.meta.url)),
    include: portableTestFiles(),
    testTimeout: 20_000,
  },
});

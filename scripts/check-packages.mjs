// Packs each published package as `pnpm publish` would (workspace:* turned into versions)
// and checks the tarball itself: publint for the manifest and files, attw for the types that
// each module resolution mode sees. Run by `pnpm test` (`pnpm run check:packages`).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const packages = ["packages/core", "packages/dsl", "packages/bullmq", "packages/nats", "packages/piscina", "packages/otel"];
const out = mkdtempSync(join(tmpdir(), "sluice-packs-"));
const bin = (name) => join(root, "node_modules", ".bin", name);
const run = (file, args, cwd = root) => execFileSync(file, args, { cwd, stdio: "inherit" });

try {
  for (const dir of packages) {
    const before = new Set(readdirSync(out));
    execFileSync("pnpm", ["pack", "--pack-destination", out], { cwd: join(root, dir), stdio: ["ignore", "ignore", "inherit"] });
    const tarball = readdirSync(out).find((name) => !before.has(name));
    if (tarball === undefined) throw new Error(`pnpm pack wrote no tarball for ${dir}`);
    const file = join(out, tarball);
    run(bin("publint"), ["run", file, "--strict"]);
    // The packages are ESM only; a require() of them resolves to the ESM build, which Node
    // 20.19+ and TypeScript 5.8+ (module nodenext) load synchronously. attw still flags that
    // as "dynamic import only", so that one rule is ignored; test/packaging/ runs the require.
    run(bin("attw"), [file, "--ignore-rules", "cjs-resolves-to-esm"]);
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}

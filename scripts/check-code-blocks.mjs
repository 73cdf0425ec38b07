// Type-checks every TypeScript code block of the user docs (README.md, packages/*/README.md,
// docs/*.md, docs/guides/*.md) against the built workspace packages, with the strict settings
// of tsconfig.base.json, so that a block a user copies compiles; then runs the blocks marked
// `run`. Run by `pnpm test` after `pnpm build` (`pnpm run check:code-blocks`);
// test/code-blocks.test.ts holds its rules.
//
// Each ```ts (or ```typescript) block is a module of its own (top-level await allowed). An
// HTML comment on the line right before the fence says how to check it:
//   <!-- check: prelude users, http -->  prepend scripts/code-block-preludes/{users,http}.ts:
//                                        the declared stand-ins for names the block uses
//                                        without defining them
//   <!-- check: file hash.worker.ts -->  name the block's module, so that other blocks of
//                                        the same markdown file can import it
//   <!-- check: module ./progress.js = demo/src/progress.ts -->  let the block import a file
//                                        of the repository under the name it uses
//   <!-- check: skip <reason> -->        do not check it (reported, with the reason)
//   <!-- check: run -->                  also run it, after the type check: the block, behind
//                                        its preludes, compiled to JavaScript and run by node
//                                        in a process of its own, must exit with status 0
//                                        within 20 s, by itself (a timer or handle left
//                                        behind fails it). For quick blocks that need no
//                                        network and no stand-in: a prelude that only declares
//                                        a name fails at run time. Not with skip, file or module.
// Directives combine with ";". Every fenced block needs a language; blocks in other
// languages (sh, text) are counted, not checked. All blocks go into one ts.Program.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import ts from "typescript";

const root = resolve(import.meta.dirname, "..");
const typescriptLanguages = new Set(["ts", "typescript"]);
const markerPattern = /^<!--\s*check:(.*?)-->$/;
const fencePattern = /^(\s*)(`{3,}|~{3,})(.*)$/;

/**
 * The fenced code blocks of one markdown text, with the check directives of their markers.
 * `problems` lists markers that do not precede a TypeScript block, bad directives and
 * blocks without a language.
 */
export function extractBlocks(path, text) {
  const lines = text.split(/\r?\n/);
  const blocks = [];
  const problems = [];
  let open = undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (open !== undefined) {
      const close = fencePattern.exec(line);
      if (close !== null && close[2][0] === open.fence[0] && close[2].length >= open.fence.length && close[3].trim() === "") {
        blocks.push({ ...open.block, code: open.code.join("\n") });
        open = undefined;
      } else {
        open.code.push(line.startsWith(open.indent) ? line.slice(open.indent.length) : line.trimStart());
      }
      continue;
    }
    const fence = fencePattern.exec(line);
    if (fence === null) {
      if (markerPattern.test(line.trim()) && !fencePattern.test(lines[i + 1] ?? "")) {
        problems.push(`${path}:${i + 1}: a check marker must be on the line right before a \`\`\`ts fence`);
      }
      continue;
    }
    const language = fence[3].trim().split(/\s+/)[0] ?? "";
    const block = { path, line: i + 1, language, preludes: [], modules: [], fileName: undefined, skip: undefined, run: false };
    if (language === "") problems.push(`${path}:${i + 1}: a code block without a language (write \`\`\`ts, \`\`\`sh, \`\`\`text, ...)`);
    const marker = markerPattern.exec((lines[i - 1] ?? "").trim());
    if (marker !== null) {
      if (!typescriptLanguages.has(language)) {
        problems.push(`${path}:${i}: a check marker before a \`\`\`${language} block; only TypeScript blocks are checked`);
      }
      for (const directive of marker[1].split(";").map((d) => d.trim()).filter((d) => d !== "")) {
        const [keyword, ...rest] = directive.split(/\s+/);
        const argument = rest.join(" ");
        if (keyword === "prelude" && argument !== "") block.preludes.push(...argument.split(/\s*,\s*/));
        else if (keyword === "file" && /^[\w.-]+\.(ts|mts)$/.test(argument)) block.fileName = argument;
        else if (keyword === "skip" && argument !== "") block.skip = argument;
        else if (keyword === "run" && argument === "") block.run = true;
        else if (keyword === "module" && /^\.\/[\w.-]+\.js\s*=\s*\S+\.ts$/.test(argument)) {
          const [specifier, target] = argument.split(/\s*=\s*/);
          block.modules.push({ specifier, target });
        } else {
          problems.push(`${path}:${i}: unknown check directive "${directive}" (expected "prelude <name>[, <name>]", ` +
            `"file <name>.ts", "module ./<name>.js = <repository path>.ts", "skip <reason>" or "run")`);
        }
      }
      if (block.run && (block.skip !== undefined || block.fileName !== undefined || block.modules.length > 0)) {
        problems.push(`${path}:${i}: a block marked run cannot be marked skip, file or module: it runs alone, behind its preludes`);
      }
    }
    open = { fence: fence[2], indent: fence[1], block, code: [] };
  }
  if (open !== undefined) problems.push(`${path}:${open.block.line}: a code block that is never closed`);
  return { blocks, problems };
}

/** The compiler options of tsconfig.base.json, for checking without emitting. */
function compilerOptions() {
  const file = join(root, "tsconfig.base.json");
  const { config, error } = ts.readConfigFile(file, ts.sys.readFile);
  if (error !== undefined) throw new Error(ts.flattenDiagnosticMessageText(error.messageText, "\n"));
  const { options, errors } = ts.parseJsonConfigFileContent(config, ts.sys, root, undefined, file);
  if (errors.length > 0) throw new Error(errors.map((e) => ts.flattenDiagnosticMessageText(e.messageText, "\n")).join("\n"));
  return { ...options, noEmit: true, declaration: false, declarationMap: false, sourceMap: false, types: ["node"] };
}

/**
 * Type-checks the TypeScript blocks of `documents` ({ path, text }, paths relative to the
 * repository) in one program. Returns the errors (file:line:column of the markdown, or of a
 * prelude, and the TypeScript message), the blocks checked, those marked skip, and the number
 * of blocks in other languages by language, and the blocks marked run with their text (preludes
 * included) for {@link runCodeBlocks}.
 */
export function checkCodeBlocks(documents, { preludeDir = join(root, "scripts", "code-block-preludes") } = {}) {
  const errors = [];
  const checked = [];
  const skipped = [];
  const runnable = [];
  const otherLanguages = {};
  const virtualFiles = new Map(); // absolute path -> { text, segments }
  const virtualDirs = new Set();
  const preludesUsed = new Set();

  for (const { path, text } of documents) {
    const { blocks, problems } = extractBlocks(path, text);
    errors.push(...problems);
    const dir = join(root, ".code-blocks", path);
    for (const block of blocks) {
      if (!typescriptLanguages.has(block.language)) {
        if (block.language !== "") otherLanguages[block.language] = (otherLanguages[block.language] ?? 0) + 1;
        continue;
      }
      if (block.skip !== undefined) {
        skipped.push(block);
        continue;
      }
      const segments = [];
      let text = "";
      let lineCount = 0;
      for (const name of block.preludes) {
        const file = join(preludeDir, `${name}.ts`);
        if (!existsSync(file)) {
          errors.push(`${path}:${block.line - 1}: no prelude "${name}" (${relative(root, file)} does not exist)`);
          continue;
        }
        preludesUsed.add(name);
        const preludeText = readFileSync(file, "utf8").replace(/\n$/, "");
        segments.push({ firstLine: lineCount, file: relative(root, file), line: 1, columnOffset: 0 });
        text += `${preludeText}\n`;
        lineCount += preludeText.split("\n").length;
      }
      segments.push({ firstLine: lineCount, file: path, line: block.line + 1, columnOffset: 0, block });
      text += `${block.code}\nexport {};\n`;
      for (const { specifier, target } of block.modules) {
        const moduleFile = join(dir, specifier.replace(/\.js$/, ".ts"));
        if (!existsSync(join(root, target))) errors.push(`${path}:${block.line - 1}: no file ${target} in the repository`);
        const targetSpecifier = relative(dir, join(root, target)).replace(/\.ts$/, ".js");
        virtualFiles.set(moduleFile, { text: `export * from "${targetSpecifier}";\n`, segments: [], block, module: true });
      }
      const file = join(dir, block.fileName ?? `block-at-line-${block.line}.ts`);
      if (virtualFiles.has(file)) errors.push(`${path}:${block.line - 1}: a second block named ${block.fileName}`);
      virtualFiles.set(file, { text, segments, block });
      checked.push(block);
      if (block.run) runnable.push({ block, text });
    }
    for (let d = dir; d.length > root.length; d = dirname(d)) virtualDirs.add(d);
  }

  const options = compilerOptions();
  const host = ts.createCompilerHost(options);
  const { fileExists, readFile, directoryExists, getSourceFile } = host;
  host.fileExists = (file) => virtualFiles.has(file) || fileExists.call(host, file);
  host.readFile = (file) => virtualFiles.get(file)?.text ?? readFile.call(host, file);
  host.directoryExists = (dir) => virtualDirs.has(dir) || (directoryExists?.call(host, dir) ?? true);
  host.getSourceFile = (file, languageVersion, onError, shouldCreate) => {
    const virtual = virtualFiles.get(file);
    if (virtual === undefined) return getSourceFile.call(host, file, languageVersion, onError, shouldCreate);
    return ts.createSourceFile(file, virtual.text, languageVersion, true);
  };
  const program = ts.createProgram({ rootNames: [...virtualFiles.keys()], options, host });

  for (const diagnostic of program.getOptionsDiagnostics()) errors.push(`compiler options: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n")}`);
  for (const [file, virtual] of virtualFiles) {
    const sourceFile = program.getSourceFile(file);
    if (sourceFile === undefined) throw new Error(`the program lost ${file}`);
    const diagnostics = [...program.getSyntacticDiagnostics(sourceFile), ...program.getSemanticDiagnostics(sourceFile)];
    for (const diagnostic of diagnostics) {
      const message = `error TS${diagnostic.code}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n")}`;
      const where = `(the \`\`\`ts block at ${virtual.block.path}:${virtual.block.line})`;
      if (virtual.module === true) {
        errors.push(`${virtual.block.path}:${virtual.block.line - 1} (a module directive): ${message}`);
        continue;
      }
      if (diagnostic.file === undefined || diagnostic.start === undefined) {
        errors.push(`${virtual.block.path}:${virtual.block.line}: ${message}`);
        continue;
      }
      const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
      if (diagnostic.file.fileName !== file) {
        errors.push(`${relative(root, diagnostic.file.fileName)}:${line + 1}:${character + 1} ${where}: ${message}`);
        continue;
      }
      const segment = virtual.segments.findLast((s) => s.firstLine <= line);
      const markdownLine = segment.line + line - segment.firstLine;
      const context = segment.block === undefined ? ` (a prelude of the \`\`\`ts block at ${virtual.block.path}:${virtual.block.line})` : "";
      const beyond = segment.block !== undefined && line - segment.firstLine >= segment.block.code.split("\n").length;
      errors.push(`${segment.file}:${beyond ? virtual.block.line : markdownLine}:${character + 1}${context}: ${message}`);
    }
  }
  return { errors, checked, skipped, otherLanguages, preludesUsed, runnable };
}

/**
 * Runs the blocks marked run (`runnable` of {@link checkCodeBlocks}): each compiled to
 * JavaScript and run by node in a process of its own, from a directory under the repository's
 * node_modules so that the workspace packages resolve, a few at a time. Resolves the errors in
 * the blocks' order (a block that exits with another status than 0, or does not exit within
 * `timeoutMs`, with the end of its output) and what each block printed.
 */
export async function runCodeBlocks(runnable, { timeoutMs = 20_000, concurrency = 3 } = {}) {
  const cache = join(root, "node_modules", ".cache");
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, "code-blocks-"));
  const failures = []; // by block, so that the errors come in the blocks' order, not the order they finish
  const ran = [];
  try {
    const queue = runnable.map((entry, index) => ({ ...entry, index, file: join(dir, `block-${index}.mjs`) }));
    for (const { text, file } of queue) {
      const { outputText } = ts.transpileModule(text, {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
      });
      writeFileSync(file, outputText);
    }
    const runOne = async ({ block, file, index }) => {
      const { status, output, timedOut } = await runNode(file, timeoutMs);
      const where = `${block.path}:${block.line}`;
      if (timedOut) failures[index] = `${where}: the block marked run did not exit within ${timeoutMs} ms${tail(output)}`;
      else if (status !== 0) failures[index] = `${where}: the block marked run exited with ${status}${tail(output)}`;
      ran[index] = { block, output };
    };
    const workers = Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) await runOne(next);
    });
    await Promise.all(workers);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { errors: failures.filter((failure) => failure !== undefined), ran };
}

/** Runs `node file`; resolves its exit status (or signal), its stdout and stderr interleaved, and whether it was killed for taking longer than `timeoutMs`. */
function runNode(file, timeoutMs) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file], { cwd: dirname(file), stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk) => (output += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk) => (output += chunk));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ status: code ?? signal, output, timedOut });
    });
  });
}

/** The last lines of a block's output, indented, for an error message. */
function tail(output) {
  const lines = output.trimEnd().split("\n").slice(-12);
  return lines.length === 1 && lines[0] === "" ? " (no output)" : `:\n${lines.map((line) => `    ${line}`).join("\n")}`;
}

/** The user docs whose blocks are checked: README.md, packages/*\/README.md, docs/*.md, docs/guides/*.md. */
export function userDocs() {
  const packages = readdirSync(join(root, "packages")).map((name) => `packages/${name}/README.md`);
  const markdownIn = (dir) =>
    existsSync(join(root, dir)) ? readdirSync(join(root, dir)).filter((name) => name.endsWith(".md")).sort().map((name) => `${dir}/${name}`) : [];
  return ["README.md", ...packages, ...markdownIn("docs"), ...markdownIn("docs/guides")].filter((path) => existsSync(join(root, path)));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const started = performance.now();
  const paths = userDocs();
  const documents = paths.map((path) => ({ path, text: readFileSync(join(root, path), "utf8") }));
  const { errors, checked, skipped, otherLanguages, preludesUsed, runnable } = checkCodeBlocks(documents);
  const { errors: runErrors } = await runCodeBlocks(runnable);
  errors.push(...runErrors);
  const preludeDir = join(root, "scripts", "code-block-preludes");
  for (const entry of existsSync(preludeDir) ? readdirSync(preludeDir) : []) {
    if (!preludesUsed.has(entry.replace(/\.ts$/, ""))) errors.push(`scripts/code-block-preludes/${entry}: a prelude that no block uses`);
  }
  const others = Object.entries(otherLanguages).map(([language, count]) => `${count} ${language}`).join(", ");
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`check-code-blocks: ${checked.length} TypeScript blocks type-checked in ${paths.length} files, ${runnable.length} of them run (${seconds} s); ` +
    `${skipped.length} TypeScript blocks not checked (marked skip); blocks in other languages, not checked: ${others || "none"}`);
  for (const block of skipped) console.log(`  not checked: ${block.path}:${block.line}: ${block.skip}`);
  if (errors.length > 0) {
    for (const error of errors) console.error(error);
    console.error(`check-code-blocks: ${errors.length} error${errors.length === 1 ? "" : "s"}`);
    process.exitCode = 1;
  }
}

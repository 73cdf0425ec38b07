/**
 * The worker module every call of `@sluice/piscina` runs through, on the thread: it calls
 * the export the stage names, in the module the pool was created with, and turns a thrown
 * `null` or `undefined` into an `Error`. piscina reports a task's failure by a non-null
 * `error`, so a task that throws `null` would reach the main thread as a success returning
 * `null` (docs/design.md §19). CommonJS, so that piscina loads it with `require()`.
 */
import nodeUrl = require("node:url");

/** What the main thread sends: the worker module, its export, and the task. */
interface Envelope {
  readonly filename: string;
  readonly name: string;
  readonly task: unknown;
}

type Handler = (task: unknown) => unknown;

/** Handlers by module and export, once loaded (`filename\nname`); a failed load is not kept. */
const loading = new Map<string, Promise<Handler>>();

// The handler of the last call: a pool almost always runs one export of one module, so most
// calls need no key, no map lookup and no await before the user's function runs.
let lastFilename = "";
let lastName = "";
let lastHandler: Handler | null = null;

/** The export `name` of the module `filename`, as piscina finds it: a function, or a promise of one. */
async function load(filename: string, name: string): Promise<Handler> {
  const url = filename.startsWith("file:") ? filename : nodeUrl.pathToFileURL(filename).href;
  const module = (await import(url)) as Record<string, unknown>;
  let handler = await module[name];
  // A CommonJS module whose named exports the ES loader could not detect.
  if (typeof handler !== "function") handler = await (module["default"] as Record<string, unknown> | undefined)?.[name];
  if (typeof handler !== "function") throw new Error(`No handler function exported from ${filename}`);
  return handler as Handler;
}

/** The error the main thread can tell apart from any other: what a task threw, unless that was nothing. */
function guarded(error: unknown): unknown {
  return error === null || error === undefined ? new Error(`@sluice/piscina: the worker function threw ${String(error)}`) : error;
}

function rethrowGuarded(error: unknown): never {
  throw guarded(error);
}

function invoke(handler: Handler, task: unknown): unknown {
  let result: unknown;
  try {
    result = handler(task);
  } catch (error) {
    throw guarded(error);
  }
  const then = (result as { then?: unknown } | null | undefined)?.then;
  return typeof then === "function" ? Promise.resolve(result).then(undefined, rethrowGuarded) : result;
}

function call(envelope: Envelope): unknown {
  const { filename, name, task } = envelope;
  if (lastHandler !== null && filename === lastFilename && name === lastName) return invoke(lastHandler, task);
  const key = `${filename}\n${name}`;
  let handler = loading.get(key);
  if (handler === undefined) {
    handler = load(filename, name);
    loading.set(key, handler);
    handler.catch(() => loading.delete(key));
  }
  return handler.then((loaded) => {
    lastFilename = filename;
    lastName = name;
    lastHandler = loaded;
    return invoke(loaded, task);
  });
}

export = call;

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

const handlers = new Map<string, Promise<Handler>>();

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

async function call(envelope: Envelope): Promise<unknown> {
  const key = `${envelope.filename}\n${envelope.name}`;
  let handler = handlers.get(key);
  if (handler === undefined) {
    handler = load(envelope.filename, envelope.name);
    handlers.set(key, handler);
    handler.catch(() => handlers.delete(key));
  }
  try {
    return await (await handler)(envelope.task);
  } catch (error) {
    if (error === null || error === undefined) throw new Error(`@sluice/piscina: the worker function threw ${String(error)}`);
    throw error;
  }
}

export = call;

/**
 * The error a run fails with when a call on a worker thread fails: the worker's function
 * threw or rejected (`crashed: false`), or the thread itself stopped while it ran the call
 * (`crashed: true`: `process.exit()`, a memory limit, the pool destroyed under it).
 *
 * What crosses from a thread is a structured-clone copy: a class of your own arrives as a
 * plain `Error`, its own fields are lost. The copy is kept as `cause`; the message repeats the
 * worker's own first line (`ParseError: bad header`, class name included) and `stack` shows
 * the frames where it was thrown, in the worker.
 *
 * @example
 * ```ts
 * try {
 *   await pipe(files).map(onThreads(pool), { workers: 2 });
 * } catch (error) {
 *   if (error instanceof ThreadError) {
 *     console.log(error.message); // "map#1: ParseError: bad header (in a worker thread; element [3])"
 *     console.log(error.cause);   // the copy of what the worker threw
 *   }
 * }
 * ```
 */
export class ThreadError extends Error {
  /** Always `"ThreadError"`. */
  override readonly name = "ThreadError";
  /** The name of the stage whose call failed. */
  readonly stage: string;
  /** The index path of the element whose call failed. */
  readonly index: readonly number[];
  /** `true` when the thread stopped under the call; `false` when the worker's function threw. */
  readonly crashed: boolean;

  /**
   * Wraps `cause`, what the pool rejected a call of `stage` on element `index` with. Usually
   * made by the stage; `crashed` says whether the thread stopped (see {@link ThreadError.crashed}).
   */
  constructor(stage: string, index: readonly number[], cause: unknown, crashed: boolean) {
    const where = `element [${index.join(", ")}]`;
    const message = crashed
      ? `${stage}: the worker thread stopped while running a call (${headline(cause)}; ${where})`
      : `${stage}: ${headline(cause)} (in a worker thread; ${where})`;
    super(message, { cause });
    this.stage = stage;
    this.index = index;
    this.crashed = crashed;
    const frames = workerFrames(cause);
    if (!crashed && frames !== undefined) this.stack = `${this.name}: ${message}\n${frames}`;
  }
}

/**
 * Whether a rejection of `pool.run()` means the thread stopped rather than the task threw:
 * piscina's own errors for a thread that exited or was terminated, and Node's `ERR_WORKER_*`
 * errors (a memory limit, a worker that failed to start).
 */
export function isThreadStop(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && code.startsWith("ERR_WORKER_")) return true;
  return /^worker exited with code: -?\d+$/.test(error.message) || error.message === "Terminating worker thread";
}

/** The first line a thrown value prints with: `RangeError: too big`, or the value itself. */
function headline(value: unknown): string {
  if (value instanceof Error) {
    const stack = typeof value.stack === "string" ? value.stack : "";
    const frame = stack.search(/\n\s+at /);
    // The stack's header keeps the class name of a custom error, which the copy itself lost.
    if (frame > 0 && stack.includes(value.message)) return stack.slice(0, frame);
    return value.message === "" ? value.name : `${value.name}: ${value.message}`;
  }
  if (typeof value === "string") return `threw ${JSON.stringify(value)}`;
  try {
    return `threw ${String(value)}`;
  } catch {
    return "threw a value that cannot be printed";
  }
}

/** The `    at ...` lines of an error's stack (where it was thrown, in the worker), if any. */
function workerFrames(value: unknown): string | undefined {
  if (!(value instanceof Error) || typeof value.stack !== "string") return undefined;
  const frame = value.stack.search(/\n\s+at /);
  return frame < 0 ? undefined : value.stack.slice(frame + 1);
}

// A one-shot source read again gives no elements and no error, so a second run would silently
// see an empty source. Runs remember the ones they opened, and a later run fails instead.
const opened = new WeakMap<object, string>();

/**
 * What a source that can be read only once is called in the error, or `undefined` for a
 * source that every run may read afresh. `selfIterating`: its iterator method returned the
 * source itself (a generator object, an array's `values()`), so it is an iterator. Streams
 * hand out a new iterator each time, over the same data that only one may read.
 */
function oneShotKind(source: object, selfIterating: boolean): string | undefined {
  if (selfIterating) return "an iterator";
  const s = source as Record<string, unknown>;
  if (typeof s["getReader"] === "function") return "a ReadableStream";
  if (typeof s["readableEnded"] === "boolean" && typeof s["pipe"] === "function") return "a Node.js Readable stream";
  return undefined;
}

/**
 * The error for a run that opens a one-shot source an earlier run already opened, or
 * `undefined` when the source may be read (docs/behaviour.md §2).
 */
export function reopenedSourceError(source: unknown): TypeError | undefined {
  const kind = source !== null && typeof source === "object" ? opened.get(source) : undefined;
  if (kind === undefined) return undefined;
  return new TypeError(
    `the source is ${kind} that an earlier run already read, and it can be read only once; ` +
      `pass a factory that makes a new one for each run, such as pipe(() => range(10)) instead of pipe(range(10)), ` +
      `to run the pipeline more than once`,
  );
}

/** Records that a run opened `source`, when it is one-shot; `selfIterating` as for {@link oneShotKind}. */
export function rememberOpened(source: unknown, selfIterating: boolean): void {
  if (source === null || typeof source !== "object") return;
  const kind = oneShotKind(source, selfIterating);
  if (kind !== undefined) opened.set(source, kind);
}

/**
 * One long-lived instance of each class the engine creates per run or per element.
 *
 * V8 reaches an object's final hidden class through transitions that it holds weakly. When
 * no instance is alive (between runs, at a full GC such as `global.gc()` or the memory
 * reducer of an idle process), those hidden classes are collected: optimized code that
 * checks for them is thrown away, and each later run meets new hidden classes until the
 * inline caches of the hot path turn megamorphic. Measured: a forced GC between runs of
 * 200k elements made every later run 5-9x slower. One anchored instance per class keeps the
 * hidden classes, and so the optimized code, alive.
 */
const anchors: object[] = [];

/** Keeps `instance` (and so its hidden class) alive for the life of the process. */
export function anchorShape(instance: object): void {
  anchors.push(instance);
}

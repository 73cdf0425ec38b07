// The worker module of test/piscina: plain JavaScript, because Node 20 cannot load a .ts
// worker. Each export is one behaviour the tests need on a thread.
import { move } from "piscina";

/** Squares a number after `spin` ms of busy work (default 0). */
export default function square({ value, spin = 0 }) {
  const until = Date.now() + spin;
  while (Date.now() < until);
  return value * value;
}

/** Async: resolves with the value's length after a real timer of `ms` (default 1). */
export async function slowLength({ text, ms = 1 }) {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return text.length;
}

/**
 * Counts in `counter` (an Int32Array over a SharedArrayBuffer, so the main thread sees
 * it live) and never returns: only terminating the thread stops it.
 */
export function spinForever({ counter }) {
  for (;;) Atomics.add(counter, 0, 1);
}

class ParseError extends Error {
  constructor(message) {
    super(message);
    this.name = "ParseError";
    this.line = 7;
  }
}

/** Throws a ParseError (a class the main thread never sees) from a named function. */
export function parseOrThrow({ text }) {
  if (text.startsWith("!")) throw new ParseError(`bad record ${JSON.stringify(text)}`);
  return text.toUpperCase();
}

/** Throws a string, not an Error. */
export function throwString() {
  throw "plain string";
}

/** Ends the thread the hard way while running a task. */
export function exitThread({ code }) {
  process.exit(code);
}

/** Sums the bytes of a buffer, and moves back a buffer holding the sum. */
export function sumBytes(buffer) {
  let sum = 0;
  for (const byte of new Uint8Array(buffer)) sum += byte;
  const out = new Float64Array([sum]);
  return move(out.buffer);
}

/** Returns, then throws from a timer: an exception outside any task, which kills the thread. */
export function lateThrow({ value }) {
  setTimeout(() => {
    throw new Error("thrown between tasks");
  }, 0);
  return value;
}

/** `spinForever` for a task with a counter, `square` for the others. */
export function dispatch(task) {
  return task.counter === undefined ? square(task) : spinForever(task);
}

/** Fails until `counter` (shared with the main thread) has counted `failures` calls, then squares. */
export function failTimes({ counter, failures, value }) {
  if (Atomics.add(counter, 0, 1) < failures) throw new Error(`attempt ${Atomics.load(counter, 0)} failed`);
  return value * value;
}

/** Throws `null` for a negative value, `undefined` for zero, else squares it. */
export function throwNothing({ value }) {
  if (value < 0) throw null;
  if (value === 0) throw undefined;
  return value * value;
}

/** Returns `null`: a result like any other. */
export function returnNull() {
  return null;
}

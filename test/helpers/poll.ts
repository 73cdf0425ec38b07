/**
 * Waits until `condition()` holds, checking every 20 ms; fails with `what` after `limitMs`.
 * For state outside the process (a Redis queue, a NATS consumer), which a condition may
 * have to ask for asynchronously; in-process state is better waited for with `until` of
 * helpers/time.ts, which checks after every macrotask.
 */
export async function pollUntil(condition: () => boolean | Promise<boolean>, what: string, limitMs = 10_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

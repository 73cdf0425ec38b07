/**
 * @sluice/bullmq on a real Redis (test/helpers/redis-setup.ts): jobs() acknowledges each job
 * through settle (done: completed, failed: failed with BullMQ's attempts, released: back to
 * waiting), holds at most `prefetch` jobs, and enqueue() adds jobs with idempotent ids.
 */
import { Job } from "bullmq";
import { describe, expect, expectTypeOf, it } from "vitest";
import { OptionsError, concat, pipe } from "@sluice/dsl";
import { enqueue, jobIdFor, jobs } from "@sluice/bullmq";
import { completions, connection, freshQueue, until } from "./support.js";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe("jobs()", () => {
  it("completes every job once the pipeline is done with it: delivered, filtered out or expanded to nothing", async () => {
    const queue = freshQueue<{ n: number }>("done");
    const completed = await completions(queue.name);
    await queue.addBulk(Array.from({ length: 30 }, (_, n) => ({ name: "square", data: { n } })));
    const source = jobs<{ n: number }>(queue.name, { connection: connection(), prefetch: 8, endWhenDrained: true });
    expectTypeOf(source).toEqualTypeOf<import("@sluice/dsl").Pipeline<Job<{ n: number }, unknown, string>>>();
    const squares = await source
      .filter((job) => job.data.n % 3 !== 0)
      .flatMap((job) => (job.data.n % 3 === 1 ? [job.data.n ** 2] : []))
      .map(async (x) => x, { workers: 4 });
    expect(squares.sort((a, b) => a - b)).toEqual([1, 4, 7, 10, 13, 16, 19, 22, 25, 28].map((n) => n ** 2));
    expect(await queue.getJobCounts("completed", "active", "waiting", "failed")).toMatchObject({ completed: 30, active: 0, waiting: 0, failed: 0 });
    await until(() => completed.size === 30, "30 completed events");
    expect([...completed.values()].every((count) => count === 1)).toBe(true);
  });

  it("holds at most prefetch jobs at once, however many workers the stages have", async () => {
    const queue = freshQueue("prefetch");
    await queue.addBulk(Array.from({ length: 20 }, (_, n) => ({ name: "n", data: n })));
    let inFlight = 0;
    let most = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const run = jobs(queue.name, { connection: connection(), prefetch: 3, endWhenDrained: true })
      .map(async (job) => {
        most = Math.max(most, ++inFlight);
        await gate;
        inFlight--;
        return job;
      }, { workers: 50, maxsize: 50 })
      .run();
    await until(() => inFlight === 3, "three jobs in flight");
    await sleep(100);
    expect(inFlight).toBe(3);
    expect(await queue.getActiveCount()).toBe(3);
    expect(await queue.getWaitingCount()).toBe(17);
    release();
    await run;
    expect(most).toBe(3);
    expect(await queue.getCompletedCount()).toBe(20);
  });

  it("a failed element fails its job, and BullMQ's attempts run it again", async () => {
    const queue = freshQueue<{ n: number }>("attempts");
    await queue.add("flaky", { n: 1 }, { attempts: 2 });
    await queue.add("broken", { n: 2 }, { attempts: 1 });
    const boom = new Error("first attempt fails");
    const options = { connection: connection(), prefetch: 1, endWhenDrained: true };
    // Without onError the first failure fails the run: the job fails (attempt 1 of 2) and
    // the run rejects; a new run takes the job again.
    await expect(
      jobs<{ n: number }>(queue.name, options).map((job) => {
        if (job.data.n === 1 && job.attemptsMade === 0) throw boom;
        return job;
      }),
    ).rejects.toBe(boom);
    const flaky = (await queue.getJobs(["waiting", "delayed", "completed", "active"])).find((job) => job.name === "flaky");
    expect(flaky?.attemptsMade).toBe(1);
    expect(flaky?.failedReason).toBe(boom.message);

    const broken = new Error("always fails");
    const failures: number[] = [];
    for (let runs = 0; runs < 5 && (await queue.getCompletedCount()) + (await queue.getFailedCount()) < 2; runs++) {
      await jobs<{ n: number }>(queue.name, options)
        .map((job) => {
          if (job.data.n === 2) throw broken;
          return job;
        })
        .run()
        .catch((error: unknown) => failures.push(error === broken ? 2 : -1));
    }
    expect(failures).toEqual([2]);
    const [done] = await queue.getJobs(["completed"]);
    expect(done?.name).toBe("flaky");
    expect(done?.attemptsMade).toBe(2);
    const [failed] = await queue.getJobs(["failed"]);
    expect(failed?.name).toBe("broken");
    expect(failed?.failedReason).toBe("always fails");
  });

  it("with onError: 'skip' a failed element fails its job in BullMQ and the run goes on", async () => {
    const queue = freshQueue<{ n: number }>("skip");
    await queue.addBulk([1, 2, 3].map((n) => ({ name: "n", data: { n }, opts: { attempts: 1 } })));
    const done = await jobs<{ n: number }>(queue.name, { connection: connection(), prefetch: 2, endWhenDrained: true }).map(
      (job) => {
        if (job.data.n === 2) throw new Error("two is bad");
        return job.data.n;
      },
      { onError: "skip" },
    );
    expect(done.sort()).toEqual([1, 3]);
    expect(await queue.getJobCounts("completed", "failed")).toMatchObject({ completed: 2, failed: 1 });
    const [failed] = await queue.getJobs(["failed"]);
    expect(failed?.data.n).toBe(2);
    expect(failed?.failedReason).toBe("two is bad");
  });

  it("endWhenDrained waits for a failed job's later attempt, and two such consumers both end", async () => {
    const queue = freshQueue<{ n: number }>("drained");
    await queue.addBulk(
      Array.from({ length: 20 }, (_, n) => ({ name: "n", data: { n }, opts: { attempts: 2, backoff: { type: "fixed", delay: 150 } } })),
    );
    const consume = () =>
      jobs<{ n: number }>(queue.name, { connection: connection(), prefetch: 2, endWhenDrained: true })
        .map(
          async (job) => {
            await sleep(2);
            if (job.data.n === 7 && job.attemptsMade === 0) throw new Error("first attempt");
            return job.data.n;
          },
          { onError: "skip" },
        )
        .toArray();
    const [a, b] = await Promise.all([consume(), consume()]);
    expect([...a!, ...b!].sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, n) => n));
    expect(await queue.getJobCounts("completed", "failed", "delayed")).toMatchObject({ completed: 20, failed: 0, delayed: 0 });
  });

  it("an abort releases the jobs held: back to waiting, neither completed nor failed", async () => {
    const queue = freshQueue("abort");
    await queue.addBulk(Array.from({ length: 10 }, (_, n) => ({ name: "n", data: n })));
    const controller = new AbortController();
    let started = 0;
    const run = jobs(queue.name, { connection: connection(), prefetch: 4 })
      .map((job, ctx) => {
        started++;
        return new Promise((_, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason)));
      }, { workers: 4 })
      .run({ signal: controller.signal });
    await until(() => started === 4, "four jobs started");
    const reason = new Error("shutting down");
    controller.abort(reason);
    await expect(run).rejects.toBe(reason);
    expect(await queue.getJobCounts("waiting", "active", "completed", "failed")).toMatchObject({ waiting: 10, active: 0, completed: 0, failed: 0 });
    const again = await queue.getJobs(["waiting"]);
    expect(again.every((job) => job.attemptsMade === 0)).toBe(true);
  });

  it("a for await that breaks out completes the jobs it asked past and releases the one in hand and the rest", async () => {
    const queue = freshQueue("break");
    await queue.addBulk(Array.from({ length: 10 }, (_, n) => ({ name: "n", data: n })));
    const seen: unknown[] = [];
    for await (const job of jobs(queue.name, { connection: connection(), prefetch: 4 }).map((job) => job)) {
      seen.push(job.data);
      if (seen.length === 3) break;
    }
    expect(await queue.getCompletedCount()).toBe(2);
    expect(await queue.getJobCounts("waiting", "active", "failed")).toMatchObject({ waiting: 8, active: 0, failed: 0 });
  });

  it("a for await body that throws does not complete the job in hand: it goes back to waiting, and the loop completes the others", async () => {
    const queue = freshQueue("body-throws");
    await queue.addBulk(Array.from({ length: 5 }, (_, n) => ({ name: "n", data: n })));
    const boom = new Error("the loop body failed");
    const consume = async (failOn: number | null): Promise<number[]> => {
      const seen: number[] = [];
      for await (const job of jobs<number>(queue.name, { connection: connection(), prefetch: 2, endWhenDrained: true })) {
        await sleep(1);
        if (job.data === failOn) throw boom;
        seen.push(job.data);
      }
      return seen;
    };
    await expect(consume(2)).rejects.toBe(boom);
    const afterThrow = await queue.getJobCounts("completed", "waiting", "active", "failed");
    expect(afterThrow.failed).toBe(0);
    expect(afterThrow.active).toBe(0);
    expect((afterThrow.completed ?? 0) + (afterThrow.waiting ?? 0)).toBe(5);
    const waiting = await queue.getJobs(["waiting"]);
    expect(waiting.map((job) => job.data)).toContain(2);
    // A loop that completes normally completes every job, the last one too.
    const rest = await consume(null);
    expect(rest.sort()).toEqual(waiting.map((job) => job.data).sort());
    expect(await queue.getJobCounts("completed", "waiting", "active", "failed")).toMatchObject({ completed: 5, waiting: 0, active: 0, failed: 0 });
  });

  it("checks its options", () => {
    expect(() => jobs("", { connection: connection() })).toThrow(OptionsError);
    expect(() => jobs("q", { connection: connection(), prefetch: 0 })).toThrow(
      new OptionsError("jobs(): options.prefetch must be an integer >= 1 (received 0)"),
    );
    expect(() => jobs("q", { connection: connection(), other: 1 } as never)).toThrow(OptionsError);
    expect(() => jobs("q", {} as never)).toThrow(OptionsError);
  });
});

describe("enqueue()", () => {
  it("adds one job per element with ids from the source job and ctx.index, so a retried job does not add twice", async () => {
    const orders = freshQueue<{ parcels: string[] }>("orders");
    const shipping = freshQueue<string>("shipping");
    await orders.add("order", { parcels: ["a", "b", "c"] }, { attempts: 2 });
    const boom = new Error("parcel c could not be labelled on the first attempt");
    const consume = () =>
      jobs<{ parcels: string[] }>(orders.name, { connection: connection(), prefetch: 1, endWhenDrained: true })
        .flatMap((job) => job.data.parcels.map((parcel) => ({ job, parcel })))
        .map(async (x) => {
          // c fails on the first attempt, after a and b were enqueued.
          if (x.parcel === "c" && x.job.attemptsMade === 0) {
            await sleep(50);
            throw boom;
          }
          return x;
        }, { workers: 3 })
        .through(enqueue(shipping, { name: "ship", origin: (x) => x.job, data: (x) => x.parcel }))
        .run();
    await expect(consume()).rejects.toBe(boom);
    expect(await shipping.getWaitingCount()).toBe(2);
    await consume();
    const added = await shipping.getJobs(["waiting"]);
    expect(added.map((job) => job.data).sort()).toEqual(["a", "b", "c"]);
    const [order] = await orders.getJobs(["completed"]);
    expect(order?.attemptsMade).toBe(2);
    expect(added.map((job) => job.id).sort()).toEqual([0, 1, 2].map((i) => jobIdFor(order!, "ship", [i])));
  });

  it("checks its workers as a stage's, under its own name, with the facts as fields", () => {
    const target = freshQueue<number>("checked");
    const origin = (x: { queueName: string; id: string }) => x;
    let error: unknown;
    try {
      enqueue(target, { name: "n", origin, workers: 1.5 });
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(OptionsError);
    expect((error as OptionsError).message).toBe("enqueue(): options.workers must be an integer >= 1 (received 1.5)");
    expect((error as OptionsError).method).toBe("enqueue");
    expect((error as OptionsError).issues).toEqual([
      { path: ["options", "workers"], expected: "an integer >= 1", received: 1.5, message: "options.workers must be an integer >= 1 (received 1.5)" },
    ]);
    expect(() => enqueue(target, { name: "n", origin: "job" as never })).toThrow(
      new OptionsError('enqueue(): options.origin must be a function (received "job")'),
    );
  });

  /** Orders whose parcels go to shipping; the order named `flaky` fails its last parcel on its first attempt. */
  function shipParcels(build: () => import("@sluice/dsl").Pipeline<{ job: Job<{ parcels: string[] }>; parcel: string }>) {
    const shipping = freshQueue<string>("shipping");
    const consume = () =>
      build()
        .map(async (x) => {
          if (x.job.name === "flaky" && x.parcel.endsWith("3") && x.job.attemptsMade === 0) {
            await sleep(50);
            throw new Error("the label printer jammed");
          }
          return x;
        }, { workers: 3 })
        .through(enqueue(shipping, { name: "ship", origin: (x) => x.job, data: (x) => x.parcel }))
        .run();
    return { shipping, consume };
  }

  it("behind concat(jobs(a), jobs(b)), a retried job does not enqueue its parcels twice (the run-local position is not in the id)", async () => {
    const a = freshQueue<{ parcels: string[] }>("orders-a");
    const b = freshQueue<{ parcels: string[] }>("orders-b");
    // "steady" is taken first, so "flaky" is at position 1 of its source in the first run, 0 in the second.
    await a.add("steady", { parcels: ["s1", "s2", "s3"] });
    await a.add("flaky", { parcels: ["f1", "f2", "f3"] }, { attempts: 2 });
    await b.add("other", { parcels: ["o1", "o2", "o3"] });
    const options = { connection: connection(), prefetch: 1, endWhenDrained: true };
    const { shipping, consume } = shipParcels(() =>
      concat(jobs<{ parcels: string[] }>(a.name, options), jobs<{ parcels: string[] }>(b.name, options)).flatMap((job) =>
        job.data.parcels.map((parcel) => ({ job, parcel })),
      ),
    );
    await expect(consume()).rejects.toThrow("the label printer jammed");
    await consume();
    const added = await shipping.getJobs(["waiting"]);
    expect(added.map((job) => job.data).sort()).toEqual(["f1", "f2", "f3", "o1", "o2", "o3", "s1", "s2", "s3"]);
  });

  it("after batch().flat(), a retried job does not enqueue its parcels twice (its place in a batch is not in the id)", async () => {
    const orders = freshQueue<{ parcels: string[] }>("orders-batched");
    await orders.add("steady", { parcels: ["s1", "s2", "s3"] });
    await orders.add("flaky", { parcels: ["f1", "f2", "f3"] }, { attempts: 2 });
    const { shipping, consume } = shipParcels(() =>
      jobs<{ parcels: string[] }>(orders.name, { connection: connection(), prefetch: 2, endWhenDrained: true })
        .batch(2, { maxWait: 50 })
        .flat()
        .flatMap((job) => job.data.parcels.map((parcel) => ({ job, parcel }))),
    );
    await expect(consume()).rejects.toThrow("the label printer jammed");
    await consume();
    const added = await shipping.getJobs(["waiting"]);
    expect(added.map((job) => job.data).sort()).toEqual(["f1", "f2", "f3", "s1", "s2", "s3"]);
  });

  it("names ids after the source job and the path below it, escaping the separators of its parts", () => {
    expect(jobIdFor({ queueName: "orders", id: "17" }, "ship", [0, 2])).toBe("orders/17/ship/0.2");
    expect(jobIdFor({ queueName: "orders", id: "17" }, "ship", [])).toBe("orders/17/ship");
    expect(jobIdFor({ queueName: "a", id: "1/2" }, "n", [])).not.toBe(jobIdFor({ queueName: "a/1", id: "2" }, "n", []));
    expect(jobIdFor({ queueName: "a", id: "1" }, "x/2", [])).toBe("a/1/x%2F2");
    expect(jobIdFor({ queueName: "a", id: "1" }, "50%:off", [])).toBe("a/1/50%25%3Aoff");
    expect(() => jobIdFor({ queueName: "orders" }, "ship", [0])).toThrow(TypeError);
  });

  it("a job name with a '/' or ':' is enqueued under an id BullMQ takes", async () => {
    const target = freshQueue<number>("target");
    await pipe([{ queueName: "src", id: "1", n: 5 }]).through(enqueue(target, { name: "a/b:c", origin: (x) => x, data: (x) => x.n })).run();
    const [job] = await target.getJobs(["waiting"]);
    expect(job?.id).toBe("src/1/a%2Fb%3Ac");
  });

  it("is an operator of an each stage", async () => {
    const target = freshQueue<number>("target");
    await pipe([{ queueName: "src", id: "1", n: 5 }]).through(enqueue(target, { name: "n", origin: (x) => x, data: (x) => x.n })).run();
    const [job] = await target.getJobs(["waiting"]);
    expect(job?.id).toBe("src/1/n");
    expect(job?.data).toBe(5);
  });
});

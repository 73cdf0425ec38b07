// The example from the top of the spec: two concurrent stages over ten numbers.
// Run: npx -y pnpm@10 examples && node examples/dist/seed.js
import { fileURLToPath } from "node:url";
import { pipe } from "@sluice/dsl";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function* range(n: number): Generator<number> {
  for (let i = 0; i < n; i++) yield i;
}

// Random delays make the completion order differ from run to run.
async function slowAdd1(x: number): Promise<number> {
  await sleep(Math.random() * 20);
  return x + 1;
}

async function slowGt3(x: number): Promise<boolean> {
  await sleep(Math.random() * 20);
  return x > 3;
}

export async function main(log: (line: string) => void = console.log): Promise<{ data: number[]; streamed: number[] }> {
  const stage = pipe(() => range(10)) // a function, so each run gets a fresh generator
    .map(slowAdd1, { workers: 3, maxsize: 4 })
    .filter(slowGt3, { workers: 2 });

  const data = await stage; // one run: every element, in completion order
  log(`await stage     -> [${data.join(", ")}]`);

  const streamed: number[] = [];
  for await (const x of stage) streamed.push(x); // a second, independent run
  log(`for await stage -> [${streamed.join(", ")}]`);

  return { data, streamed };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();

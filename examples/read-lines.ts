// Reading a file line by line through a Node stream: fs.createReadStream feeds readline,
// whose interface is an AsyncIterable<string>, which pipe() takes as a source. Lines are
// pulled only as fast as the pipeline can take them (backpressure reaches the file).
// Run: npx -y pnpm@10 examples && node examples/dist/read-lines.js [file.csv]
import { createReadStream } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { pipe } from "@sluice/dsl";

interface Order {
  readonly id: number;
  readonly country: string;
  readonly amount: number;
}

const COUNTRIES = ["FR", "DE", "JP", "BR", "KE"] as const;

/** Writes a sample CSV of `rows` orders (with a header, a blank line and a malformed row). */
async function writeSampleCsv(path: string, rows: number): Promise<void> {
  const lines = ["id,country,amount"];
  for (let id = 1; id <= rows; id++) lines.push(`${id},${COUNTRIES[id % COUNTRIES.length]},${(id % 9) + 1}.50`);
  lines.splice(10, 0, "", "this line is not an order");
  await writeFile(path, `${lines.join("\n")}\n`);
}

function parseOrder(line: string): Order | undefined {
  const [id, country, amount] = line.split(",");
  const order = { id: Number(id), country: country ?? "", amount: Number(amount) };
  return Number.isInteger(order.id) && order.country !== "" && Number.isFinite(order.amount) ? order : undefined;
}

// Stands in for an async lookup per row (a database, a currency service, ...).
async function toEuros(order: Order): Promise<Order> {
  await new Promise((resolve) => setTimeout(resolve, 1));
  return order.country === "JP" ? { ...order, amount: order.amount / 160 } : order;
}

export async function main(
  log: (line: string) => void = console.log,
  file?: string,
): Promise<{ orders: number; skipped: number; totals: Record<string, number> }> {
  const dir = file === undefined ? await mkdtemp(join(tmpdir(), "sluice-read-lines-")) : undefined;
  const path = file ?? join(dir!, "orders.csv");
  try {
    if (dir !== undefined) await writeSampleCsv(path, 200);

    let skipped = 0;
    // A function source: each run opens the file anew, and teardown closes it.
    const lines = () => createInterface({ input: createReadStream(path, "utf8"), crlfDelay: Infinity });
    const orders = pipe(lines)
      .filter((line, { index }) => index[0] !== 0 && line.trim() !== "") // skip the header and blank lines
      .map((line) => {
        const order = parseOrder(line);
        if (order === undefined) skipped++;
        return order;
      })
      .filter((order): order is Order => order !== undefined) // a type guard: Pipeline<Order> from here
      .map(toEuros, { workers: 8 });

    const totals: Record<string, number> = {};
    let count = 0;
    for await (const order of orders) {
      totals[order.country] = (totals[order.country] ?? 0) + order.amount;
      count++;
    }
    for (const [country, total] of Object.entries(totals).sort(([a], [b]) => a.localeCompare(b))) log(`${country}  ${total.toFixed(2)} EUR`);
    log(`${count} orders read from ${file ?? "a sample file"}, ${skipped} malformed line(s) skipped`);
    return { orders: count, skipped, totals };
  } finally {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main(console.log, process.argv[2]);

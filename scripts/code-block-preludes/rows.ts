// Stand-ins: rows to write, and the steps that enrich and save one.
interface Row {
  id: number;
  name: string;
}
declare const rows: AsyncIterable<Row>;
declare function enrich(row: Row): Promise<Row & { score: number }>;
declare function save(row: Row & { score: number }): Promise<void>;

// Stand-in: a database client.
declare const db: {
  insert(row: unknown): Promise<void>;
  insertMany(rows: readonly unknown[]): Promise<void>;
};

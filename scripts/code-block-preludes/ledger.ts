// Stand-in: applies one account event to a ledger (a database write).
declare function applyEvent(account: string, event: unknown): Promise<void>;

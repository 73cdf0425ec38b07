/**
 * examples/account-events.ts on the NATS server of the test run: every account's events are
 * applied in order, several accounts at once, never more than the cap.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { main } from "../../examples/account-events.js";
import { connection } from "./support.js";

describe("examples/account-events.ts", () => {
  it("200 events of 20 accounts: each account's in publish order, accounts in parallel, at most 16 calls at once", async () => {
    const lines: string[] = [];
    const stream = `accounts_${randomUUID().replaceAll("-", "")}`;
    const result = await main((line) => lines.push(line), { servers: connection().servers, stream });
    expect(result.applied).toBe(200);
    expect(result.inOrder).toBe(true);
    expect(result.mostAtOnce).toBeGreaterThan(1);
    expect(result.mostAtOnce).toBeLessThanOrEqual(16);
    expect(lines).toEqual([`applied 200 events of 20 accounts, each account's in order: true, at most ${result.mostAtOnce} at once`]);
  });
});

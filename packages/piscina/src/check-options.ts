import type { TransferListItem } from "node:worker_threads";
import { OptionsError } from "@sluice/dsl";

/** The `transfer` option, checked: a function or absent. */
export function checkTransfer<In>(method: string, transfer: unknown): ((input: In) => readonly TransferListItem[]) | undefined {
  if (transfer === undefined) return undefined;
  if (typeof transfer !== "function") throw OptionsError.invalid(method, ["options", "transfer"], "a function returning what to move", transfer);
  return transfer as (input: In) => readonly TransferListItem[];
}

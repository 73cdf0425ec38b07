import type { TransferListItem } from "node:worker_threads";
import { OptionsError } from "@sluice/dsl";

/** A short description of a value for an `OptionsError`'s "(received ...)". */
export function received(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "function") return "a function";
  if (Array.isArray(value)) return "an array";
  if (value !== null && typeof value === "object") return `an object (${Object.prototype.toString.call(value).slice(8, -1)})`;
  return String(value);
}

/** The `transfer` option, checked: a function or absent. */
export function checkTransfer<In>(method: string, transfer: unknown): ((input: In) => readonly TransferListItem[]) | undefined {
  if (transfer === undefined) return undefined;
  if (typeof transfer !== "function") {
    throw new OptionsError(`${method}(): options.transfer must be a function returning what to move (received ${received(transfer)})`);
  }
  return transfer as (input: In) => readonly TransferListItem[];
}

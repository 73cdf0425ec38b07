// For blocks that continue the onThreads one: its imports and its pool.
import { Piscina } from "piscina";
import { onThreads } from "@sluice/piscina";
declare const pool: Piscina;

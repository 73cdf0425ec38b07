// For blocks that continue the quick start: `pipe` imported as it imports it.
import { pipe } from "@sluice/dsl";

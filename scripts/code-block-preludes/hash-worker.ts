// For blocks that continue the onThreads one: the worker module's type, from the
// hash.worker.ts block of the same markdown file.
import type hash from "./hash.worker.js";

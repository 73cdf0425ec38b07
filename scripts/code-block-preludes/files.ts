// Stand-ins: paths of files to read, and `readFile` from `node:fs/promises`.
declare const files: string[];
declare const readFile: typeof import("node:fs/promises").readFile;

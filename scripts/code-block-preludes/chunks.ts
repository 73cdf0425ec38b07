// Stand-in: chunks of bytes to process on worker threads (read from files or the network:
// not views of a SharedArrayBuffer).
declare const chunks: Uint8Array<ArrayBuffer>[];

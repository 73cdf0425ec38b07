// Stand-in: a CPU-bound function of bytes that returns new bytes (`new Uint8Array(n)` is a
// Uint8Array<ArrayBuffer>).
declare function checksums(bytes: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer>;

// For blocks that read a generator: a one-shot source of 0, 1, ..., n - 1.
function* range(n: number): Generator<number> {
  for (let i = 0; i < n; i++) yield i;
}

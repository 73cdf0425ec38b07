// Stand-ins: documents to summarise, and one call of an LLM API. As most SDKs do, a refused
// call throws an error carrying the HTTP status (429 when over quota) and the Retry-After.
interface Doc {
  id: string;
  text: string;
}
declare const documents: AsyncIterable<Doc>;
declare function complete(
  prompt: string,
  options: { signal: AbortSignal },
): Promise<{ text: string; usage: { inputTokens: number; outputTokens: number } }>;
declare class ApiError extends Error {
  readonly status: number;
  readonly retryAfterMs: number | undefined;
}

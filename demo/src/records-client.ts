import type { ApiRecord } from "./flaky-server.js";

/** The API answered with a status other than 200. */
export class HttpError extends Error {
  override readonly name = "HttpError";
  constructor(readonly status: number, url: string) {
    super(`GET ${url}: HTTP ${status}`);
  }
}

/**
 * The client a pipeline stage shares between its calls (created by `onStart`): it knows the
 * API's base URL and headers. Node's `fetch` keeps connections alive and pools them per
 * origin, so all calls reuse a few sockets.
 */
export class RecordsClient {
  readonly #baseUrl: string;
  readonly #headers = { accept: "application/json", "user-agent": "sluice-demo" };

  constructor(baseUrl: string) {
    this.#baseUrl = baseUrl;
  }

  /** Fetches one record; `signal` cancels the request (a timeout, or the run being torn down). */
  async getRecord(id: number, signal: AbortSignal): Promise<ApiRecord> {
    const url = `${this.#baseUrl}/records/${id}`;
    const response = await fetch(url, { headers: this.#headers, signal });
    if (response.status !== 200) {
      await response.body?.cancel(); // free the connection for the next request
      throw new HttpError(response.status, url);
    }
    return (await response.json()) as ApiRecord;
  }
}

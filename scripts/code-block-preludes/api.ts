// Stand-in: the base URL of an HTTP API.
declare const api: string;

// Stand-in: a GET of a JSON document through a given `node:http` agent.
declare function getJson(url: string, agent: import("node:http").Agent, signal: AbortSignal): Promise<unknown>;

// Stand-in: the response of a `node:http` request handler.
declare const response: import("node:http").ServerResponse;

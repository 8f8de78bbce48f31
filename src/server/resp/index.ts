/**
 * The Redis-protocol endpoint (RESP2 on node:net): the front door of src/server/resp.
 */
export { RespServer, type RespServerOptions } from "./resp-server.js";
export type { RespSettings } from "./settings.js";
export type { RespStats } from "./stats.js";

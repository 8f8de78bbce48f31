/**
 * The front door of src/server: the HTTP server, its settings, and the tenant naming the CLI
 * shares with it (a tenant's keys are stored under its prefix).
 */
export { OPEN_TENANT, TENANT_ID } from "./auth.js";
export {
  type ConfigInput,
  DEFAULT_CONFIG,
  readConfigFile,
  resolveConfig,
  type ServerConfig,
  tokensFromEnvironment,
} from "./config.js";
export { dataPrefix } from "./namespace.js";
export { LogbookServer } from "./server.js";

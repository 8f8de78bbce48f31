/**
 * The endpoint's limits (config keys `resp*`, flags `--resp-*`), read once when it starts.
 */
export interface RespSettings {
  /** Longest bulk string (key or value) a client may send, in bytes. */
  bulkBytesMax: number;
  /** Most arguments in one command. */
  multibulkCountMax: number;
  /** Longest inline command line. */
  inlineBytesMax: number;
  /** Replies a connection may have waiting to be written before it is closed (Redis's client-output-buffer-limit). */
  outputBytesMax: number;
  /** Bytes of a connection's pipeline (received, not yet answered) above which it is not read until it drains. */
  pipelineBytesMax: number;
  /** Connections open at once; one more is answered with an error and closed. */
  clientsMax: number;
  /** A connection with no traffic this long (and no command running or waiting) is closed; 0: never (Redis's `timeout`). */
  idleTimeoutMs: number;
  /** The longest a blocking command (XREAD … BLOCK) may wait; 0 BLOCK waits this long too. */
  blockMsMax: number;
  /** Clients waiting in blocking commands at once; one more gets an error reply. */
  blockedClientsMax: number;
}

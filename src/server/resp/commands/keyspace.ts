/**
 * Keyspace commands (db.c): DEL, EXISTS, TYPE, KEYS, SCAN, RENAME, COPY, FLUSHDB and their
 * family, over the client's tenant's keys, strings and streams alike.
 *
 * A command that writes decides against the latest state (every write sequenced so far) and
 * writes in the same synchronous step, so nothing comes between its check and its record; its
 * reply waits for the record to be durable. One that finds nothing to change logs nothing and
 * answers at once. Reads see the acknowledged state.
 */
import type { KeyspaceOp } from "../../../store/index.js";
import type { CommandSpec } from "../command-spec.js";
import { syntaxError } from "../command-spec.js";
import type { CommandContext } from "../context.js";
import { matchingNames, scanPage } from "../key-scan.js";
import { array, bulk, bulkArray, integer, NIL, OK, ONE, type Reply, RespError, simple, ZERO } from "../reply.js";
import { parseCursor, scanCursorsOf } from "../scan-cursor.js";
import { integerArgument, optionName } from "./string-args.js";

/** COUNT when SCAN is given none, as Redis's. */
export const SCAN_COUNT_DEFAULT = 10;

const NO_SUCH_KEY = "ERR no such key";
const SAME_OBJECT = "ERR source and destination objects are the same";
/** Logbook has one database, 0: Redis's answer to any other index when it has one database. */
const DB_OUT_OF_RANGE = "ERR DB index is out of range";

const INT_MAX = 2_147_483_647;
const INT_MIN = -2_147_483_648;

const KEYS_ALL = { first: 1, last: -1, step: 1 } as const;
const KEY_FIRST = { first: 1, last: 1, step: 1 } as const;
const KEYS_TWO = { first: 1, last: 2, step: 1 } as const;

/** A database index argument (getIntFromObjectOrReply): an integer that fits a C int. */
function databaseIndex(text: string): number {
  const index = integerArgument(text);
  if (index < INT_MIN || index > INT_MAX) {
    throw new RespError(`ERR value is out of range, value must between ${INT_MIN} and ${INT_MAX}`);
  }
  return Number(index);
}

function deleteKeys(context: CommandContext, args: string[]): Reply | Promise<Reply> {
  context.checkWritable();
  const keys = new Set<string>();
  for (let i = 1; i < args.length; i++) {
    const key = context.key(args[i] as string);
    if (context.kindOf(key, "latest") !== undefined) keys.add(key);
  }
  if (keys.size === 0) return ZERO;
  const ops: KeyspaceOp[] = [];
  for (const key of keys) ops.push({ type: "delete", key });
  return context.write(ops).then(() => integer(keys.size));
}

/** How many of the keys named exist, a key named twice counted twice. */
function countExisting(context: CommandContext, args: string[]): Reply {
  let count = 0;
  for (let i = 1; i < args.length; i++) if (context.kindOf(context.key(args[i] as string)) !== undefined) count++;
  return integer(count);
}

function flush(context: CommandContext, args: string[]): Promise<Reply> {
  if (args.length === 2) {
    const mode = optionName(args[1] as string);
    if (mode !== "sync" && mode !== "async") throw syntaxError();
  } else if (args.length > 2) throw syntaxError();
  context.checkWritable();
  const { gte, lt } = context.range;
  return context.write([{ type: "deleteRange", gte, lt }]).then(() => OK);
}

function rename(context: CommandContext, args: string[], onlyIfAbsent: boolean): Reply | Promise<Reply> {
  context.checkWritable();
  const source = context.key(args[1] as string);
  const target = context.key(args[2] as string);
  const kind = context.kindOf(source, "latest");
  if (kind === undefined) throw new RespError(NO_SUCH_KEY);
  if (source === target) return onlyIfAbsent ? ZERO : OK;
  if (onlyIfAbsent && context.kindOf(target, "latest") !== undefined) return ZERO;
  if (kind === "stream") throw new RespError("ERR RENAME of a stream key is not supported");
  const entry = context.latest(source);
  if (entry === undefined) throw new RespError(NO_SUCH_KEY);
  const ops: KeyspaceOp[] = [
    { type: "put", key: target, value: entry.value, expiresAt: entry.expiresAt },
    { type: "delete", key: source },
  ];
  return context.write(ops).then(() => (onlyIfAbsent ? ONE : OK));
}

/** COPY's options: REPLACE, and DB, which must name database 0. */
function copyReplaces(args: string[]): boolean {
  let replace = false;
  for (let i = 3; i < args.length; i++) {
    const option = optionName(args[i] as string);
    if (option === "replace") replace = true;
    else if (option === "db" && i + 1 < args.length) {
      if (databaseIndex(args[++i] as string) !== 0) throw new RespError(DB_OUT_OF_RANGE);
    } else throw syntaxError();
  }
  return replace;
}

function copy(context: CommandContext, args: string[]): Reply | Promise<Reply> {
  const replace = copyReplaces(args);
  context.checkWritable();
  const source = context.key(args[1] as string);
  const target = context.key(args[2] as string);
  if (source === target) throw new RespError(SAME_OBJECT);
  const kind = context.kindOf(source, "latest");
  if (kind === undefined) return ZERO;
  if (!replace && context.kindOf(target, "latest") !== undefined) return ZERO;
  if (kind === "stream") throw new RespError("ERR COPY of a stream key is not supported");
  const entry = context.latest(source);
  if (entry === undefined) return ZERO;
  return context.write([{ type: "put", key: target, value: entry.value, expiresAt: entry.expiresAt }]).then(() => ONE);
}

function scan(context: CommandContext, args: string[]): Reply {
  const cursor = parseCursor(args[1] as string);
  let count = SCAN_COUNT_DEFAULT;
  let pattern: string | undefined;
  let type: string | undefined;
  for (let i = 2; i < args.length; i += 2) {
    const option = optionName(args[i] as string);
    if (i + 1 >= args.length) throw syntaxError();
    const value = args[i + 1] as string;
    if (option === "count") {
      const asked = integerArgument(value);
      if (asked < 1) throw syntaxError();
      count = typeof asked === "bigint" ? Number.MAX_SAFE_INTEGER : asked;
    } else if (option === "match") {
      pattern = value === "*" ? undefined : value;
    } else if (option === "type") {
      type = optionName(value);
    } else throw syntaxError();
  }
  const cursors = scanCursorsOf(context.host);
  const tenant = context.range.gte;
  const page = scanPage(context, cursors.resumeKey(cursor, tenant), count, { pattern, type });
  const next = page.next === undefined ? 0n : cursors.issue(page.next, tenant);
  return array([bulk(String(next)), bulkArray(page.names)]);
}

export const keyspaceCommands: CommandSpec[] = [
  {
    name: "del",
    arity: -2,
    flags: ["write"],
    keys: KEYS_ALL,
    categories: ["@keyspace", "@write", "@slow"],
    summary: "Deletes one or more keys.",
    run: deleteKeys,
  },
  {
    name: "unlink",
    arity: -2,
    flags: ["write", "fast"],
    keys: KEYS_ALL,
    categories: ["@keyspace", "@write", "@fast"],
    summary: "Deletes one or more keys (as DEL: a delete is logged, never freed in the background).",
    run: deleteKeys,
  },
  {
    name: "exists",
    arity: -2,
    flags: ["readonly", "fast"],
    keys: KEYS_ALL,
    categories: ["@keyspace", "@read", "@fast"],
    summary: "Determines whether one or more keys exist.",
    run: countExisting,
  },
  {
    name: "touch",
    arity: -2,
    flags: ["readonly", "fast"],
    keys: KEYS_ALL,
    categories: ["@keyspace", "@read", "@fast"],
    summary: "Returns the number of existing keys out of those specified (Logbook keeps no access times).",
    run: countExisting,
  },
  {
    name: "type",
    arity: 2,
    flags: ["readonly", "fast"],
    keys: KEY_FIRST,
    categories: ["@keyspace", "@read", "@fast"],
    summary: "Determines the type of value stored at a key.",
    run(context, args) {
      return simple(context.kindOf(context.key(args[1] as string)) ?? "none");
    },
  },
  {
    name: "keys",
    arity: 2,
    flags: ["readonly"],
    categories: ["@keyspace", "@read", "@slow", "@dangerous"],
    summary: "Returns all key names that match a pattern.",
    run(context, args) {
      const pattern = args[1] as string;
      return bulkArray(matchingNames(context, { pattern: pattern === "*" ? undefined : pattern }));
    },
  },
  {
    name: "scan",
    arity: -2,
    flags: ["readonly"],
    categories: ["@keyspace", "@read", "@slow"],
    summary: "Iterates over the key names in the database.",
    run: scan,
  },
  {
    name: "randomkey",
    arity: 1,
    flags: ["readonly"],
    categories: ["@keyspace", "@read", "@slow"],
    summary: "Returns a random key name from the database.",
    run(context) {
      const { gte, lt } = context.range;
      const key = context.store.keyspace.randomKey(gte, lt);
      return key === undefined ? NIL : bulk(context.userKey(key));
    },
  },
  {
    name: "dbsize",
    arity: 1,
    flags: ["readonly", "fast"],
    categories: ["@keyspace", "@read", "@fast"],
    summary: "Returns the number of keys in the database.",
    run(context) {
      const { gte, lt } = context.range;
      return integer(context.store.keyspace.count(gte, lt));
    },
  },
  {
    name: "rename",
    arity: 3,
    flags: ["write"],
    keys: KEYS_TWO,
    categories: ["@keyspace", "@write", "@slow"],
    summary: "Renames a key and overwrites the destination.",
    run: (context, args) => rename(context, args, false),
  },
  {
    name: "renamenx",
    arity: 3,
    flags: ["write", "fast"],
    keys: KEYS_TWO,
    categories: ["@keyspace", "@write", "@fast"],
    summary: "Renames a key only when the target key name doesn't exist.",
    run: (context, args) => rename(context, args, true),
  },
  {
    name: "copy",
    arity: -3,
    flags: ["write", "denyoom"],
    keys: KEYS_TWO,
    categories: ["@keyspace", "@write", "@slow"],
    summary: "Copies the value of a key to a new key.",
    run: copy,
  },
  {
    name: "move",
    arity: 3,
    flags: ["write", "fast"],
    keys: KEY_FIRST,
    categories: ["@keyspace", "@write", "@fast"],
    summary: "Moves a key to another database (Logbook has one: 0).",
    run(_context, args) {
      if (databaseIndex(args[2] as string) !== 0) throw new RespError(DB_OUT_OF_RANGE);
      throw new RespError(SAME_OBJECT);
    },
  },
  {
    name: "flushdb",
    arity: -1,
    flags: ["write"],
    categories: ["@keyspace", "@write", "@slow", "@dangerous"],
    summary: "Removes all keys from the current database (the client's tenant's keys).",
    run: flush,
  },
  {
    name: "flushall",
    arity: -1,
    flags: ["write"],
    categories: ["@keyspace", "@write", "@slow", "@dangerous"],
    summary: "Removes all keys from all databases (the client's tenant's keys).",
    run: flush,
  },
];

/**
 * When a stream command runs, so that inside EXEC the stream commands keep their order.
 *
 * Outside EXEC a stream command runs at once: a write is sequenced by the store before its
 * call returns, and the connection orders commands (connection.ts).
 *
 * Inside EXEC the string commands' writes are collected into the transaction's one record,
 * written when EXEC has run them all (transaction.ts); the store logs a stream command as a
 * record of its own, so stream commands cannot join it. They are ordered instead:
 *   - a stream command with nothing before it in the EXEC (no string write, no stream command
 *     still waiting) runs at once, sequenced before the transaction's record;
 *   - any other runs once the transaction's record has been applied, after the stream commands
 *     before it: a write (logged before its call returns) once those have started, a read or a
 *     write the store logs only after an await (XREADGROUP) once they have all settled, so that
 *     it sees them.
 * EXEC's reply waits for all of them. A string write and a stream write in one EXEC are
 * therefore each durable and in order, but not one atomic record.
 */
import type { CommandContext } from "../context.js";
import type { Transaction } from "../transaction.js";

interface Order {
  /** What every later stream command of the EXEC starts after; undefined: they may run at once. */
  after: Promise<unknown> | undefined;
  /** Writes started since `after` was set: a read waits for them to settle. */
  writes: Promise<unknown>[];
}

const orders = new WeakMap<Transaction, Order>();

function orderOf(transaction: Transaction): Order {
  let order = orders.get(transaction);
  if (order === undefined) {
    order = { after: undefined, writes: [] };
    orders.set(transaction, order);
  }
  return order;
}

const settled = (promise: Promise<unknown>): Promise<unknown> => promise.then(ignore, ignore);
const ignore = (): undefined => undefined;

/** Runs a stream write the store sequences before the call returns (XADD, XDEL, XACK, XGROUP …). */
export function orderedWrite<T>(context: CommandContext, work: () => Promise<T>): Promise<T> {
  const transaction = context.transaction;
  if (transaction === undefined) return work();
  const order = orderOf(transaction);
  if (order.after === undefined && transaction.ops.length > 0) order.after = transaction.committed;
  const running = order.after === undefined ? work() : order.after.then(work);
  order.writes.push(running);
  return running;
}

/** Runs a stream read, or a write the store may sequence only later (XREADGROUP), after all before it. */
export function orderedStep<T>(context: CommandContext, work: () => T | Promise<T>): T | Promise<T> {
  const transaction = context.transaction;
  if (transaction === undefined) return work();
  const order = orderOf(transaction);
  if (order.after === undefined && order.writes.length === 0 && transaction.ops.length === 0) {
    const result = work();
    if (typeof result === "object" && result instanceof Promise) order.after = settled(result);
    return result;
  }
  const before = Promise.all([transaction.committed, order.after, ...order.writes.map(settled)]);
  const running = before.then(work);
  order.after = settled(running);
  order.writes = [];
  return running;
}

/**
 * A stream write: checked and admitted as `context.write` does (holding `bytes` of the in-flight
 * bound until it settles), and ordered inside EXEC, whose writes are not admitted one by one.
 */
export function streamWrite<T>(context: CommandContext, bytes: number, work: () => Promise<T>): Promise<T> {
  if (context.transaction === undefined) return context.admit(bytes, work);
  context.checkWritable();
  return orderedWrite(context, work);
}

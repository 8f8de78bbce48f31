/**
 * A consumer group's pending entries list (PEL) and its consumers. Each pending entry is one
 * object held twice: in the group's map by ID and in its owner's map by ID, so moving it to
 * another consumer or acknowledging it touches both maps and nothing else. Invariant: an entry
 * is in the group's map exactly when it is in the map of the consumer it names.
 */
import { assert } from "../assert.js";
import { LogbookError } from "../errors.js";
import { GROUP_CONSUMERS_MAX } from "./group-limits.js";
import { SortedMap } from "./sorted-map.js";
import type { StreamId } from "./stream-id.js";

/** A pending entry as callers see it: a copy, with its owner's name. */
export interface PendingEntry {
  readonly id: StreamId;
  readonly consumer: string;
  /** When it was last delivered (ms). */
  readonly deliveredMs: number;
  /** How many times it was delivered. */
  readonly deliveries: number;
}

/** A pending entry as the list holds it. */
export interface Nack {
  readonly id: StreamId;
  consumer: Consumer;
  deliveredMs: number;
  deliveries: number;
}

export class Consumer {
  /** Its pending entries by ID: the same objects as in the group's PEL. */
  readonly pending = new SortedMap<Nack>();

  constructor(
    readonly name: string,
    /** Last interaction of any kind (XREADGROUP, XCLAIM, XAUTOCLAIM, creation). */
    public seenMs: number,
    /** Last successful read or claim; undefined while it has had none (Redis shows -1). */
    public activeMs: number | undefined,
  ) {}
}

export function snapshotOf(nack: Nack): PendingEntry {
  return { id: nack.id, consumer: nack.consumer.name, deliveredMs: nack.deliveredMs, deliveries: nack.deliveries };
}

/** A consumer's pending entries in ID order from `from`; its PEL must not change meanwhile. */
export function* pendingOf(consumer: Consumer, from?: StreamId): Generator<Nack> {
  for (const [, nack] of consumer.pending.entries(from)) yield nack;
}

/** Orders names by their UTF-8 bytes (which is code point order), as Redis orders consumers. */
export function compareNames(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.codePointAt(i) as number;
    const y = b.codePointAt(i) as number;
    if (x !== y) return x - y;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

export class PendingList {
  private readonly byId = new SortedMap<Nack>();
  private readonly consumers = new Map<string, Consumer>();

  get size(): number {
    return this.byId.size;
  }

  get consumerCount(): number {
    return this.consumers.size;
  }

  consumer(name: string): Consumer | undefined {
    return this.consumers.get(name);
  }

  /** Consumers in name order. */
  consumersInOrder(): Consumer[] {
    return [...this.consumers.values()].sort((a, b) => compareNames(a.name, b.name));
  }

  addConsumer(name: string, seenMs: number, activeMs: number | undefined): Consumer {
    assert(!this.consumers.has(name), "a consumer is added once");
    if (this.consumers.size >= GROUP_CONSUMERS_MAX)
      throw new LogbookError("LOGBOOK_INVALID_ARGUMENT", `a group holds at most ${GROUP_CONSUMERS_MAX} consumers`);
    const consumer = new Consumer(name, seenMs, activeMs);
    this.consumers.set(name, consumer);
    return consumer;
  }

  /** Removes a consumer and drops its pending entries from the PEL; returns how many it had. */
  removeConsumer(name: string): number {
    const consumer = this.consumers.get(name);
    if (consumer === undefined) return 0;
    const pending = consumer.pending.size;
    for (const [id] of consumer.pending.entries()) this.byId.delete(id);
    this.consumers.delete(name);
    return pending;
  }

  get(id: StreamId): Nack | undefined {
    return this.byId.get(id);
  }

  /** The first pending entry at or after `id`. */
  ceiling(id: StreamId): Nack | undefined {
    return this.byId.ceiling(id)?.[1];
  }

  firstId(): StreamId | undefined {
    return this.byId.firstKey();
  }

  lastId(): StreamId | undefined {
    return this.byId.lastKey();
  }

  /** Entries in ID order from `from`; the list must not change while this is iterated. */
  *entries(from?: StreamId): Generator<Nack> {
    for (const [, nack] of this.byId.entries(from)) yield nack;
  }

  /** Adds a new pending entry owned by `consumer`. */
  add(id: StreamId, consumer: Consumer, deliveredMs: number, deliveries: number): Nack {
    const nack: Nack = { id, consumer, deliveredMs, deliveries };
    assert(this.byId.set(id, nack), "a new pending entry is not pending yet");
    assert(consumer.pending.set(id, nack), "a consumer's PEL holds only what the group's holds");
    return nack;
  }

  /** Makes `consumer` the owner of a pending entry (no change when it already is). */
  moveTo(nack: Nack, consumer: Consumer): void {
    if (nack.consumer === consumer) return;
    assert(nack.consumer.pending.delete(nack.id), "a pending entry is in its owner's PEL");
    consumer.pending.set(nack.id, nack);
    nack.consumer = consumer;
  }

  /** Removes a pending entry from the group and its owner; returns it, or undefined if it was not pending. */
  remove(id: StreamId): Nack | undefined {
    const nack = this.byId.get(id);
    if (nack === undefined) return undefined;
    this.byId.delete(id);
    assert(nack.consumer.pending.delete(id), "a pending entry is in its owner's PEL");
    return nack;
  }
}

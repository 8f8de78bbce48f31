/**
 * One stream: its entries (bodies on disk, index in memory: stream-entries.ts), the facts
 * Redis keeps beside them (last ID, entries added, largest deleted ID), its consumer groups,
 * its retention, and the window of producer idempotency IDs.
 */

import type { ConsumerGroup } from "./consumer-group.js";
import type { Retention } from "./stream-command.js";
import type { StreamEntries } from "./stream-entries.js";
import type { StreamFacts } from "./stream-facts.js";
import { MIN_ID, type StreamId } from "./stream-id.js";

export const NO_RETENTION: Retention = { maxLength: 0, maxBytes: 0, maxAgeMs: 0 };

export class Stream implements StreamFacts {
  /** The last ID the stream gave or was set to: new IDs are above it even after its entry is deleted. */
  lastId: StreamId = MIN_ID;
  /** Entries ever added (XINFO's entries-added; XSETID may set it). */
  entriesAdded = 0;
  /** The largest ID ever deleted by XDEL (0-0: none). */
  maxDeletedId: StreamId = MIN_ID;
  retention: Retention = NO_RETENTION;
  readonly groups = new Map<string, ConsumerGroup>();
  /**
   * Producer idempotency ID → the ID its add got, oldest first (a Map keeps insertion order):
   * a retried add with a known producer ID returns that ID and adds nothing. At most the
   * space's window many; the oldest is forgotten first.
   */
  readonly producers = new Map<string, StreamId>();

  constructor(
    /** The stream's number in the entry storage (never reused within a store). */
    readonly number: number,
    readonly entries: StreamEntries,
  ) {}

  get length(): number {
    return this.entries.length;
  }

  /** The first entry's ID, MIN_ID when the stream is empty (what consumer groups need, stream-facts.ts). */
  get firstId(): StreamId {
    return this.entries.firstId ?? MIN_ID;
  }

  get maxDeletedEntryId(): StreamId {
    return this.maxDeletedId;
  }

  rememberProducer(producerId: string, id: StreamId, window: number): void {
    this.producers.set(producerId, id);
    while (this.producers.size > window) {
      const oldest = this.producers.keys().next().value as string;
      this.producers.delete(oldest);
    }
  }
}

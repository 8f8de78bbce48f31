/**
 * A stream as a consumer group sees it, for tests: the set of entry IDs and the counters
 * Redis keeps (entries added, largest deleted ID, last ID), so tests can replay the
 * sequences of Redis's stream-cgroups.tcl.
 */
import type { ConsumerGroup, StreamFacts } from "../../src/streams/index.js";
import { MIN_ID, parseId, type StreamId } from "../../src/streams/index.js";

export function id(text: string): StreamId {
  return parseId(text);
}

export class FakeStream {
  readonly ids: StreamId[] = [];
  entriesAdded = 0;
  maxDeletedEntryId: StreamId = MIN_ID;
  lastId: StreamId = MIN_ID;

  add(...texts: string[]): void {
    for (const text of texts) {
      const entry = id(text);
      if (entry <= this.lastId) throw new Error("IDs increase");
      this.ids.push(entry);
      this.entriesAdded++;
      this.lastId = entry;
    }
  }

  /** XDEL: records the largest deleted ID. */
  del(...texts: string[]): void {
    for (const text of texts) {
      const entry = id(text);
      const at = this.ids.indexOf(entry);
      if (at < 0) continue;
      this.ids.splice(at, 1);
      if (entry > this.maxDeletedEntryId) this.maxDeletedEntryId = entry;
    }
  }

  /** XTRIM MINID: drops entries below, leaving the largest deleted ID alone. */
  trimMinId(text: string): void {
    const min = id(text);
    while (this.ids.length > 0 && (this.ids[0] as StreamId) < min) this.ids.shift();
  }

  /** The entries a `>` read delivers after `last`, at most `count` (0: all). */
  after(last: StreamId, count = 0): StreamId[] {
    const found = this.ids.filter((entry) => entry > last);
    return count === 0 ? found : found.slice(0, count);
  }

  readonly exists = (entry: StreamId): boolean => this.ids.includes(entry);

  facts(): StreamFacts {
    return {
      entriesAdded: this.entriesAdded,
      maxDeletedEntryId: this.maxDeletedEntryId,
      firstId: this.ids[0] ?? MIN_ID,
      lastId: this.lastId,
      length: this.ids.length,
    };
  }
}

/** Everything a group holds, as plain data: two groups with equal states compare deepEqual. */
export function groupState(group: ConsumerGroup): unknown {
  return {
    name: group.name,
    lastDeliveredId: group.lastDeliveredId,
    entriesRead: group.entriesRead,
    maxDeliveries: group.maxDeliveries,
    deadLetterKey: group.deadLetterKey,
    consumers: group.consumerNames().map((name) => group.consumer(name)),
    pending: group.pendingEntries(),
  };
}

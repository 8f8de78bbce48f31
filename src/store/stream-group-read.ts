/**
 * One pass of a group read (XREADGROUP): the readGroup commands for every stream it names,
 * logged as one record, and the entries they delivered. A `>` read delivers entries new to the
 * group; an ID reads the consumer's own pending entries from it (with the bodies of any the
 * group may dead-letter on the way).
 */
import { LogbookError } from "../errors.js";
import type { Delivery, StreamCommand, StreamId } from "../streams/index.js";
import type { Key } from "./encoding.js";
import type { StreamHost } from "./stream-host.js";
import { deadLetterBodies, entriesOf } from "./stream-reads.js";
import type { StreamRead } from "./stream-types.js";

export interface GroupReadTarget {
  key: Key;
  internal: string;
  /** undefined: `>`. */
  from: StreamId | undefined;
}

export interface GroupReadSpec {
  group: string;
  consumer: string;
  count: number;
  noAck: boolean;
  binary: boolean;
}

/**
 * Logs the reads and resolves what they delivered: each stream with new entries, and each read
 * by ID even when it found none; null when nothing was delivered and no read was by ID.
 */
export async function deliverGroupReads(
  host: StreamHost,
  reads: readonly GroupReadTarget[],
  spec: GroupReadSpec,
): Promise<StreamRead[] | null> {
  const ops = await Promise.all(
    reads.map(async (r) => ({
      key: r.internal,
      command: {
        kind: "readGroup",
        group: spec.group,
        consumer: spec.consumer,
        from: r.from,
        count: spec.count,
        noAck: spec.noAck,
        nowMs: host.clock.wallMs(),
        bodies:
          r.from === undefined ? [] : await deadLetterBodies(host, r.internal, spec.group, r.from, spec.count, spec.consumer),
      } as StreamCommand,
    })),
  );
  const results = await host.runAll(ops);
  const failed = results.find((r) => r instanceof LogbookError);
  if (failed !== undefined) throw failed;
  const out: StreamRead[] = [];
  for (const [i, r] of reads.entries()) {
    const delivery = results[i] as Delivery;
    const stream = host.space.get(r.internal);
    if (stream === undefined) continue;
    if (delivery.ids.length > 0 || r.from !== undefined)
      out.push({ key: r.key, entries: await entriesOf(host, stream, delivery.ids, spec.binary) });
  }
  return out.some((o) => o.entries.length > 0) || reads.some((r) => r.from !== undefined) ? out : null;
}

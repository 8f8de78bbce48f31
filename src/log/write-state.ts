/**
 * What the stages of the write path share, held once and handed to each stage: the commit
 * ring, the groups published and not yet acknowledged, the appends waiting for ring space,
 * the counters, and whether the log has failed or is closing. The stages, in the order a
 * write travels:
 *
 *   sequencer.ts          admission, LSNs, ring space, encoding, publishing a group
 *   commit-placement.ts   who commits what was published: the writer thread or the event loop
 *                         (adaptive-placement.ts is the policy in use)
 *   committer.ts          frames the groups, one write and one fdatasync (start-committers.ts
 *                         starts it on the writer thread or on the event loop)
 *   acknowledgement.ts    reads how far the committer got, resolves groups in LSN order,
 *                         settles waiters, hands over new segments, fail-stop
 *
 * writer.ts composes them behind the one class the log uses.
 */
import type { LogbookError } from "../errors.js";
import type { CommitRing } from "./commit-ring.js";
import type { CommitInfo } from "./contract.js";
import type { ResolvedLogOptions } from "./options.js";
import { PendingGroups } from "./pending-groups.js";
import { Queue } from "./queue.js";
import type { SegmentSet } from "./segments.js";

export interface WriterHooks {
  onCommit(info: CommitInfo): void;
  onDurable(durableLsn: number): void;
  onFailure(error: LogbookError): void;
}

/** A group sequenced while the ring had no room: its LSNs are taken, its bytes not yet in the ring. */
export interface Overflow {
  payloads: readonly Uint8Array[];
  bytes: number;
  firstLsn: number;
  resolve: (firstLsn: number) => void;
  reject: (error: unknown) => void;
}

export class WriteState {
  /** Published groups not yet acknowledged, oldest first (their bytes are live in the ring). */
  readonly pending = new PendingGroups();
  /** Sequenced groups waiting for ring space, in LSN order, all after every pending group. */
  readonly overflow = new Queue<Overflow>();
  /** Set once, by fail-stop; from then on nothing is sequenced, published or acknowledged. */
  failure: LogbookError | undefined = undefined;
  closing = false;
  appends = 0;
  records = 0;
  recordBytes = 0;
  /** Bytes sequenced and not yet acknowledged (pending and overflow): bounded by pendingBytesMax. */
  pendingBytes = 0;

  constructor(
    readonly ring: CommitRing,
    readonly segments: SegmentSet,
    readonly options: ResolvedLogOptions,
    readonly hooks: WriterHooks,
  ) {}
}

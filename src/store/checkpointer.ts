/**
 * A store's checkpoints: when to take one (by log bytes written since the last), one at a
 * time, and the procedure that writes one, installs it in the manifest and frees the log
 * below what the manifest still needs. Writers go on meanwhile: the state is a snapshot.
 */
import { join } from "node:path";
import { assert } from "../assert.js";
import { asDiskError } from "../errors.js";
import type { Clock, FileSystem } from "../io/index.js";
import type { WriteAheadLog } from "../log/index.js";
import type { SavedStreams, StreamSpace } from "../streams/index.js";
import { type CheckpointInfo, writeCheckpoint } from "./checkpoint.js";
import { type Manifest, writeManifest } from "./manifest.js";
import type { SortedState } from "./state.js";
import { streamsFileName, writeStreamsFile } from "./streams-file.js";

export type LastCheckpoint = CheckpointInfo & { atMs: number; durationMs: number };

export interface CheckpointStats {
  /** Checkpoints kept in the manifest (the newest and its fallback). */
  checkpoints: number;
  /** Checkpoints written since the store was opened. */
  checkpointsWritten: number;
  lastCheckpoint: LastCheckpoint | undefined;
  checkpointRunning: boolean;
  logBytesSinceCheckpoint: number;
}

/** What the checkpointer needs of its store. */
export interface CheckpointSubject {
  fs: FileSystem;
  directory: string;
  clock: Clock;
  log: WriteAheadLog;
  /** The LSN of the last write applied. */
  appliedLsn(): number;
  /** The state as of the last write applied (a copy-on-write snapshot). */
  snapshot(): SortedState;
  /** The store's streams; captured in the same synchronous step as the snapshot. */
  streams: StreamSpace;
  /** The LSN the log may be freed below when the checkpoints need it from `lsn` (feed cursors may need more). */
  retainFrom(lsn: number): Promise<number>;
  installed(info: CheckpointInfo & { durationMs: number }): void;
  /** An automatic checkpoint failed; the log still holds everything, and the next one retries. */
  failed(error: unknown): void;
}

export class Checkpointer {
  private readonly subject: CheckpointSubject;
  private readonly everyBytes: number;
  private manifest: Manifest;
  /** The newest checkpoint known to load: the one recovery loaded, then each one installed. The next one's fallback. */
  private newestUsable: CheckpointInfo | undefined;
  private running: Promise<CheckpointInfo | undefined> | undefined;
  private last: LastCheckpoint | undefined;
  private written = 0;
  private lastError: unknown;
  private logBytesAtLast = 0;
  private stopped = false;
  /** What the streams files of the checkpoints the manifest names record, by checkpoint file. */
  private readonly savedStreams = new Map<string, SavedStreams>();

  constructor(
    subject: CheckpointSubject,
    everyBytes: number,
    manifest: Manifest,
    loaded: CheckpointInfo | undefined,
    loadedStreams: SavedStreams | undefined,
  ) {
    this.subject = subject;
    this.everyBytes = everyBytes;
    this.manifest = manifest;
    this.newestUsable = loaded;
    if (loaded !== undefined && loadedStreams !== undefined) this.savedStreams.set(loaded.file, loadedStreams);
  }

  /** The LSN of the newest checkpoint installed (0: none). */
  get checkpointLsn(): number {
    return this.manifest.checkpoints[0]?.lsn ?? 0;
  }

  /** The error of the last automatic checkpoint that failed, if any. */
  get lastCheckpointError(): unknown {
    return this.lastError;
  }

  stats(): CheckpointStats {
    return {
      checkpoints: this.manifest.checkpoints.length,
      checkpointsWritten: this.written,
      lastCheckpoint: this.last,
      checkpointRunning: this.running !== undefined,
      logBytesSinceCheckpoint: this.subject.log.appendedBytes - this.logBytesAtLast,
    };
  }

  /** As Store.checkpoint: one at a time; a request during one gets the next one, which covers its writes. */
  checkpoint(): Promise<CheckpointInfo | undefined> {
    if (this.running !== undefined) {
      return this.running.then(
        () => this.checkpoint(),
        () => this.checkpoint(),
      );
    }
    const running = this.writeOnce()
      .catch((error: unknown) => {
        throw asDiskError(error, `the checkpoint of ${this.subject.directory} failed`);
      })
      .finally(() => {
        this.running = undefined;
      });
    this.running = running;
    return running;
  }

  /** Starts a checkpoint once `everyBytes` of log were written since the last; its failure is kept and reported. */
  maybeStart(): void {
    if (this.everyBytes === 0 || this.running !== undefined || this.stopped) return;
    if (this.subject.log.appendedBytes - this.logBytesAtLast < this.everyBytes) return;
    this.checkpoint().catch((error: unknown) => {
      this.lastError = error;
      this.subject.failed(error);
    });
  }

  /** Starts no more automatic checkpoints; resolves once the one running, if any, has settled. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running?.catch(() => undefined);
  }

  /**
   * The checkpoint's files: the key-value data file, then, when the store has or had streams,
   * their entries made durable and the streams file that records them.
   */
  private async writeFiles(state: SortedState, streams: SavedStreams, lsn: number): Promise<CheckpointInfo> {
    const { fs, directory, clock } = this.subject;
    const info = await writeCheckpoint(fs, directory, state, lsn, clock.wallMs());
    if (streams.nextNumber <= 1) return info;
    await this.subject.streams.persist(streams);
    const name = streamsFileName(lsn);
    await writeStreamsFile(fs, directory, name, streams);
    this.savedStreams.set(info.file, streams);
    return { ...info, streams: name };
  }

  /**
   * Writes the state as of the last applied write to a checkpoint file, installs it in the
   * manifest, and frees the log segments that only the previous checkpoint still needed. With
   * nothing applied since the newest one, resolves with that one and leaves the manifest, the
   * files and the log alone.
   */
  private async writeOnce(): Promise<CheckpointInfo> {
    const { fs, directory, clock, log } = this.subject;
    const startedMs = clock.monotonicMs();
    const lsn = this.subject.appliedLsn();
    const previous = this.newestUsable;
    // Nothing applied since the newest checkpoint: it is this one. Writing it again under the
    // same name would leave the manifest naming one file twice and free its fallback.
    if (previous?.lsn === lsn) return previous;
    assert(previous === undefined || previous.lsn < lsn, "checkpoints only move forward");
    const state = this.subject.snapshot();
    const streams = this.subject.streams.capture();
    const logBytes = log.appendedBytes;
    // A checkpoint must never be ahead of the durable log: with sync "interval" or "none" a
    // power cut could otherwise lose log records the checkpoint includes, and their LSNs
    // would be handed out again.
    if (lsn > 0) await log.waitFor(lsn, "durable");
    const info = await this.writeFiles(state, streams, lsn);
    // The fallback is the newest checkpoint known to load, not a newer one the manifest names
    // that recovery had to skip (that one is dropped, or replaced when this one has its name).
    const manifest: Manifest = { ...this.manifest, checkpoints: previous === undefined ? [info] : [info, previous] };
    await writeManifest(fs, directory, manifest);
    const dropped = this.manifest.checkpoints.filter((c) => !manifest.checkpoints.some((k) => k.file === c.file));
    this.manifest = manifest;
    this.newestUsable = info;
    for (const old of dropped) {
      await fs.unlink(join(directory, old.file));
      if (old.streams !== undefined) await fs.unlink(join(directory, old.streams));
      this.savedStreams.delete(old.file);
    }
    if (dropped.length > 0) await fs.syncDirectory(directory);
    // Entry files that neither checkpoint still named needs (a fallback replays from the older one).
    await this.subject.streams.release(manifest.checkpoints.flatMap((c) => this.savedStreams.get(c.file) ?? []));
    // Keep the log from the previous checkpoint on, so that a damaged newest one can fall back
    // to it, and from the oldest feed cursor's position on.
    if (previous !== undefined) await log.truncateBefore(await this.subject.retainFrom(previous.lsn + 1));
    this.logBytesAtLast = logBytes;
    const durationMs = clock.monotonicMs() - startedMs;
    this.last = { ...info, atMs: clock.wallMs(), durationMs };
    this.written++;
    this.subject.installed({ ...info, durationMs });
    return info;
  }
}

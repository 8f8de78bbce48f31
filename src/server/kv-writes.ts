/**
 * How the key-value routes write. `KvWrites.mutate` applies a write at most once per
 * idempotency key, under backpressure, with its conditions checked in the same synchronous
 * step as its sequencing, and answers it. A write of one operation, conditioned on its own key
 * at most (a PUT or DELETE without an Idempotency-Key, a batch of one), takes the store's
 * single-write path; anything else, including a write that carries its idempotency record, is
 * one atomic store batch.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { isLogbookError, type LogbookError } from "../errors.js";
import type { BatchOperation, Store } from "../store/index.js";
import type { Admission } from "./admission.js";
import { HttpError, singleHeader, toHttpError } from "./http-error.js";
import { decodeRecord, encodeRecord, fingerprint, InFlight, parseIdempotencyKey, type RecordedResponse } from "./idempotency.js";
import { dataPrefix, idempotencyPrefix } from "./namespace.js";
import type { RequestObserver } from "./telemetry/index.js";

/** One write as the routes describe it to `mutate`. */
export interface Mutation {
  operations: BatchOperation[];
  /**
   * The conditions, evaluated when the write is applied (not when a recorded response is
   * replayed), in the same synchronous step as its sequencing. May throw (404 for a delete).
   */
  conditions: () => [string, number][];
  /**
   * Status to answer a failed condition with: 412 for If-Match headers, 409 for batch versions,
   * 404 for an unconditional delete (its condition is only that the key exists).
   */
  conflictStatus: 404 | 409 | 412;
  /** The response body, without `version` (added from the write's LSN). */
  body: Record<string, unknown>;
  /** Bytes the write will take in flight (for backpressure). */
  bytes: number;
  /** Whether the response carries the version as ETag (single-key routes). */
  etag: boolean;
}

/** What If-Match / If-None-Match ask of a write: a version, "exists" (If-Match: *), or nothing. */
export type HeaderCondition = number | "exists" | undefined;

export function etagOf(version: number): string {
  return `"${version}"`;
}

/** A strong entity tag as a version: `"12"`. An unquoted `12` is not an entity tag. */
function versionFromTag(tag: string, header: string): number {
  const text = tag.length >= 2 && tag.startsWith('"') && tag.endsWith('"') ? tag.slice(1, -1) : "";
  if (!/^\d{1,16}$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new HttpError(400, "LOGBOOK_BAD_REQUEST", `${header} must be one entity tag holding a version, like "12", or *`);
  }
  return Number(text);
}

/**
 * The request's If-Match / If-None-Match. Only parsed here; it is checked in the mutation's
 * `conditions`, so a replayed idempotent request is not judged again against a state its first
 * application changed.
 */
export function headerCondition(request: FastifyRequest): HeaderCondition {
  const ifMatch = singleHeader(request.headers, "if-match")?.trim();
  const ifNoneMatch = singleHeader(request.headers, "if-none-match")?.trim();
  if (ifMatch !== undefined && ifNoneMatch !== undefined) {
    throw new HttpError(400, "LOGBOOK_BAD_REQUEST", "give If-Match or If-None-Match, not both");
  }
  if (ifNoneMatch !== undefined) {
    if (ifNoneMatch !== "*") throw new HttpError(400, "LOGBOOK_BAD_REQUEST", "on a write, If-None-Match must be *");
    return 0;
  }
  if (ifMatch === undefined) return undefined;
  return ifMatch === "*" ? "exists" : versionFromTag(ifMatch, "If-Match");
}

export interface KvWriteOptions {
  store: Store;
  admission: Admission;
  /** Sees every write, for its trace. */
  observer: RequestObserver;
  idempotencyTtlMs: number;
}

export class KvWrites {
  private readonly inFlight = new InFlight<RecordedResponse>();

  constructor(private readonly options: KvWriteOptions) {}

  /** Applies a write at most once per idempotency key, under backpressure, and answers it. */
  async mutate(request: FastifyRequest, reply: FastifyReply, mutation: Mutation): Promise<void> {
    const tenant = request.principal.tenant;
    const idempotencyKey = parseIdempotencyKey(singleHeader(request.headers, "idempotency-key"));
    const result =
      idempotencyKey === undefined
        ? await this.apply(request, mutation, tenant)
        : await this.applyOnce(request, reply, mutation, idempotencyPrefix(tenant) + idempotencyKey);
    if (mutation.etag) reply.header("etag", etagOf(result.version));
    reply
      .code(result.status)
      .type("application/json")
      .send(JSON.stringify({ ...result.body, version: result.version }));
  }

  /**
   * The version a condition that the key exists expects (0: absent, as reads see it): the
   * latest sequenced, so the write lands after it; but when that is a delete not yet
   * acknowledged, the applied version, so that the store answers the conflict only once the
   * delete is applied (a crash could still take it back before).
   */
  existingVersion(storageKey: string): number {
    const current = this.options.store.versionOf(storageKey);
    return current !== 0 ? current : (this.options.store.getSync(storageKey)?.version ?? 0);
  }

  /** A header condition as the store's: "exists" is read and checked in the write's own step. */
  storeConditions(storageKey: string, condition: HeaderCondition): [string, number][] {
    if (condition === undefined) return [];
    if (condition !== "exists") return [[storageKey, condition]];
    const current = this.existingVersion(storageKey);
    if (current === 0) throw new HttpError(412, "LOGBOOK_PRECONDITION_FAILED", "the key does not exist", { currentVersion: 0 });
    return [[storageKey, current]];
  }

  /**
   * A write under an Idempotency-Key (stored at `storageKey`): the recorded answer when there
   * is one, the running write's when one runs, else the write applied with its record.
   */
  private async applyOnce(
    request: FastifyRequest,
    reply: FastifyReply,
    mutation: Mutation,
    storageKey: string,
  ): Promise<RecordedResponse> {
    const print = fingerprint([
      request.method,
      request.url,
      singleHeader(request.headers, "if-match"),
      singleHeader(request.headers, "if-none-match"),
      request.bodyText,
    ]);
    const mismatch = () =>
      new HttpError(422, "LOGBOOK_IDEMPOTENCY_MISMATCH", "this Idempotency-Key was used with a different request");
    const recorded = this.options.store.getSync(storageKey);
    const previous = recorded === undefined ? undefined : decodeRecord(recorded.value as string, recorded.version, Date.now());
    const running = this.inFlight.get(storageKey);
    if (previous !== undefined) {
      if (previous.f !== print) throw mismatch();
      reply.header("idempotent-replayed", "true");
      return previous;
    }
    if (running !== undefined) {
      if (running.fingerprint !== print) throw mismatch();
      const result = await running.done;
      reply.header("idempotent-replayed", "true");
      return result;
    }
    return this.inFlight.run(storageKey, print, () =>
      this.apply(request, mutation, request.principal.tenant, {
        key: storageKey,
        value: encodeRecord({ f: print, s: 200, b: mutation.body, e: Date.now() + this.options.idempotencyTtlMs }),
      }),
    );
  }

  private async apply(
    request: FastifyRequest,
    mutation: Mutation,
    tenant: string,
    record?: { key: string; value: string },
  ): Promise<RecordedResponse> {
    const { store, admission, observer } = this.options;
    const operations = record === undefined ? mutation.operations : [...mutation.operations, { type: "put" as const, ...record }];
    const bytes = mutation.bytes + (record === undefined ? 0 : record.key.length + record.value.length);
    const conditions = mutation.conditions();
    try {
      const write = storeWrite(store, operations, conditions);
      const version = await admission.run(bytes, () => observer.observeWrite(request, operations.length, write));
      return { status: 200, body: mutation.body, version };
    } catch (error) {
      if (isLogbookError(error, "LOGBOOK_CONFLICT")) throw conflictAnswer(error, mutation, tenant);
      throw toHttpError(error);
    }
  }
}

/** A failed condition as the route answers it, naming the key as its tenant knows it. */
function conflictAnswer(error: LogbookError, mutation: Mutation, tenant: string): HttpError {
  if (mutation.conflictStatus === 404) return new HttpError(404, "LOGBOOK_NOT_FOUND", "no such key");
  const prefix = dataPrefix(tenant);
  const key = error.key?.startsWith(prefix) ? error.key.slice(prefix.length) : undefined;
  return new HttpError(
    mutation.conflictStatus,
    mutation.conflictStatus === 412 ? "LOGBOOK_PRECONDITION_FAILED" : "LOGBOOK_CONFLICT",
    `the key's version is ${error.currentVersion ?? 0}, not the one the request expected`,
    {
      ...(key === undefined ? {} : { key }),
      ...(error.currentVersion === undefined ? {} : { currentVersion: error.currentVersion }),
    },
  );
}

/**
 * The store call that makes a write: one operation whose only condition, if any, is on its own
 * key takes the store's single-write path (`put`/`delete`, encoded straight into the log), with
 * the same check of the condition in the same synchronous step as its sequencing; anything
 * else is a batch, applied atomically.
 */
function storeWrite(store: Store, operations: readonly BatchOperation[], conditions: [string, number][]): () => Promise<number> {
  const only = operations.length === 1 ? (operations[0] as BatchOperation) : undefined;
  const condition = conditions.length <= 1 ? conditions[0] : undefined;
  if (only === undefined || (conditions.length > 0 && condition?.[0] !== only.key)) {
    return () => store.batch(operations, { ifVersions: conditions });
  }
  const writeOptions = condition === undefined ? {} : { ifVersion: condition[1] };
  if (only.type === "put") return () => store.put(only.key, only.value, writeOptions);
  return () => store.delete(only.key, writeOptions);
}

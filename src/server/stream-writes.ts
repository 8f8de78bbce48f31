/**
 * How the stream routes write: every stream mutation runs under the server's backpressure
 * (admission.ts), and an add carrying an Idempotency-Key is applied at most once.
 *
 * A key write records its response in the same store batch as the write (kv-writes.ts); a
 * stream add is a stream command, which no batch holds beside a put. So the add's own
 * idempotency carries it: it is logged with a producer ID derived from the Idempotency-Key,
 * and the stream answers a retried add with that producer ID by the first add's entry ID,
 * adding nothing. The response is then recorded under `i/<tenant>/<key>` like a key write's,
 * so that a retry is answered from the record (with `Idempotent-Replayed: true`) and one that
 * reuses the key for another request is refused. A crash between the add and its record
 * leaves the producer ID, so the retry finds the first entry's ID still. The stream
 * remembers a bounded window of producer IDs; a retry beyond both that window and the
 * record's TTL is a new add.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Store } from "../store/index.js";
import type { Admission } from "./admission.js";
import { HttpError, singleHeader } from "./http-error.js";
import { decodeRecord, encodeRecord, fingerprint, InFlight, parseIdempotencyKey } from "./idempotency.js";
import { idempotencyPrefix } from "./namespace.js";
import type { AddBody } from "./stream-requests.js";

export interface StreamWriteOptions {
  store: Store;
  admission: Admission;
  idempotencyTtlMs: number;
}

/** The producer ID an Idempotency-Key stands for: a digest, so any key fits a producer ID's length. */
function producerIdOf(idempotencyKey: string): string {
  return `http-idempotency:${fingerprint([idempotencyKey])}`;
}

export class StreamWrites {
  private readonly inFlight = new InFlight<{ id: string }>();

  constructor(private readonly options: StreamWriteOptions) {}

  /** Runs a stream mutation taking `bytes` in flight, under backpressure (429 past the bound). */
  run<T>(bytes: number, work: () => Promise<T>): Promise<T> {
    return this.options.admission.run(bytes, work);
  }

  /** Adds an entry to the stream at `storageKey`, at most once per Idempotency-Key; resolves the response body. */
  async add(request: FastifyRequest, reply: FastifyReply, storageKey: string, body: AddBody): Promise<{ id: string }> {
    const idempotencyKey = parseIdempotencyKey(singleHeader(request.headers, "idempotency-key"));
    if (idempotencyKey === undefined) return { id: await this.addEntry(storageKey, body, body.producerId) };
    const recordKey = idempotencyPrefix(request.principal.tenant) + idempotencyKey;
    const print = fingerprint([request.method, request.url, request.bodyText]);
    const mismatch = () =>
      new HttpError(422, "LOGBOOK_IDEMPOTENCY_MISMATCH", "this Idempotency-Key was used with a different request");
    const recorded = this.options.store.getSync(recordKey);
    const previous = recorded === undefined ? undefined : decodeRecord(recorded.value as string, recorded.version, Date.now());
    if (previous !== undefined) {
      if (previous.f !== print) throw mismatch();
      reply.header("idempotent-replayed", "true");
      return previous.body as { id: string };
    }
    const running = this.inFlight.get(recordKey);
    if (running !== undefined) {
      if (running.fingerprint !== print) throw mismatch();
      const result = await running.done;
      reply.header("idempotent-replayed", "true");
      return result;
    }
    return this.inFlight.run(recordKey, print, async () => {
      const id = await this.addEntry(storageKey, body, body.producerId ?? producerIdOf(idempotencyKey));
      const response = { id };
      const record = encodeRecord({ f: print, s: 200, b: response, e: Date.now() + this.options.idempotencyTtlMs });
      // Not under admission: the add it records was admitted, and refusing the record now
      // would only make the client's retry find the entry through its producer ID instead.
      await this.options.store.put(recordKey, record);
      return response;
    });
  }

  private async addEntry(storageKey: string, body: AddBody, producerId: string | undefined): Promise<string> {
    const bytes = storageKey.length + fieldBytes(body.fields);
    const id = await this.run(bytes, () =>
      this.options.store.streams.add(storageKey, body.fields, {
        ...(body.id === undefined ? {} : { id: body.id }),
        ...(body.noMkStream === undefined ? {} : { noMkStream: body.noMkStream }),
        ...(body.trim === undefined ? {} : { trim: body.trim }),
        ...(producerId === undefined ? {} : { producerId }),
      }),
    );
    if (id === null) throw new HttpError(404, "LOGBOOK_NOT_FOUND", "no such stream (noMkStream: the add creates none)");
    return id;
  }
}

/** The fields' size in UTF-16 units, an estimate of their bytes in flight (as the key routes count). */
function fieldBytes(fields: AddBody["fields"]): number {
  let bytes = 0;
  const pairs = Array.isArray(fields) ? fields : Object.entries(fields);
  for (const [name, value] of pairs) bytes += name.length + value.length;
  return bytes;
}

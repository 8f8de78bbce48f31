/**
 * The consumer-group routes of a stream, `/v1/streams/{key}/groups/{group}…`: create and
 * destroy a group, read as a consumer (optionally waiting, stream-reads.ts), acknowledge,
 * list what is pending, claim and auto-claim idle entries, and list and delete consumers.
 * A group's dead-letter stream is a key of the same tenant.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { HttpError } from "./http-error.js";
import { dataPrefix } from "./namespace.js";
import { entryJson, type StreamRouteOptions, streamOf } from "./stream-keys.js";
import { readBlocking } from "./stream-reads.js";
import {
  parseAckBody,
  parseAutoClaimBody,
  parseClaimBody,
  parseCreateGroupBody,
  parseGroupReadBody,
  parsePendingQuery,
} from "./stream-requests.js";
import type { StreamWrites } from "./stream-writes.js";

const GROUP_PATH = "/v1/streams/:key/groups/:group";

type GroupParams = { key: string; group: string };

function groupOf(request: FastifyRequest): string {
  return (request.params as GroupParams).group;
}

/** A claim's or auto-claim's answer: the entries claimed, IDs pending but deleted, entries moved to the dead-letter stream. */
function claimJson<T extends { entries: Parameters<typeof entryJson>[0][]; deleted: string[]; deadLettered: unknown[] }>(
  claimed: T,
) {
  return { ...claimed, entries: claimed.entries.map(entryJson) };
}

export function registerStreamGroupRoutes(app: FastifyInstance, options: StreamRouteOptions, writes: StreamWrites): void {
  registerGroupLifecycle(app, options, writes);
  registerGroupReads(app, options, writes);
  registerClaims(app, options, writes);
}

function registerGroupLifecycle(app: FastifyInstance, options: StreamRouteOptions, writes: StreamWrites): void {
  const { store } = options;
  app.put(GROUP_PATH, async (request, reply) => {
    const { storageKey } = streamOf(request, options);
    const body = parseCreateGroupBody(request.body);
    const group = groupOf(request);
    const { deadLetterKey, ...rest } = body;
    const dlq = deadLetterKey === undefined ? {} : { deadLetterKey: dataPrefix(request.principal.tenant) + deadLetterKey };
    await writes.run(storageKey.length, () => store.streams.createGroup(storageKey, group, { ...rest, ...dlq }));
    return reply.code(201).send({ group, created: true });
  });

  app.delete(GROUP_PATH, async (request) => {
    const { storageKey } = streamOf(request, options);
    const group = groupOf(request);
    const destroyed = await writes.run(storageKey.length, () => store.streams.destroyGroup(storageKey, group));
    if (!destroyed) throw new HttpError(404, "LOGBOOK_NO_GROUP", `no consumer group ${JSON.stringify(group)}`);
    return { group, destroyed };
  });

  app.get(`${GROUP_PATH}/consumers`, async (request) => {
    const { storageKey } = streamOf(request, options);
    return { consumers: store.streams.consumers(storageKey, groupOf(request)) };
  });

  app.delete<{ Params: GroupParams & { consumer: string } }>(`${GROUP_PATH}/consumers/:consumer`, async (request) => {
    const { storageKey } = streamOf(request, options);
    const { consumer } = request.params;
    const pending = await writes.run(storageKey.length, () =>
      store.streams.deleteConsumer(storageKey, groupOf(request), consumer),
    );
    return { consumer, pending };
  });
}

function registerGroupReads(app: FastifyInstance, options: StreamRouteOptions, writes: StreamWrites): void {
  const { store } = options;
  // A group read changes the group (what it delivered, what is pending), so it is a POST, and
  // the request hook refused it when writes in flight were at their bound. It does not hold a
  // place among them: a blocking one may wait far longer than a write takes.
  app.post(`${GROUP_PATH}/read`, async (request, reply) => {
    const { storageKey } = streamOf(request, options);
    const body = parseGroupReadBody(request.body);
    const group = groupOf(request);
    const read = await readBlocking(request, reply, options, body.blockMs, (blockMs, signal) =>
      store.streams.readGroup(group, body.consumer, [[storageKey, body.from ?? ">"]], {
        ...(body.count === undefined ? {} : { count: body.count }),
        ...(body.noAck === undefined ? {} : { noAck: body.noAck }),
        ...(blockMs === undefined ? {} : { blockMs }),
        ...(signal === undefined ? {} : { signal }),
      }),
    );
    return { entries: (read?.[0]?.entries ?? []).map(entryJson) };
  });

  app.post(`${GROUP_PATH}/ack`, async (request) => {
    const { storageKey } = streamOf(request, options);
    const { ids } = parseAckBody(request.body);
    const acked = await writes.run(storageKey.length, () => store.streams.ack(storageKey, groupOf(request), ids));
    return { acked };
  });

  app.get(`${GROUP_PATH}/pending`, async (request) => {
    const { storageKey } = streamOf(request, options);
    const query = parsePendingQuery(request.query);
    const group = groupOf(request);
    if (query === undefined) return store.streams.pending(storageKey, group);
    const entries = store.streams.pendingEntries(storageKey, group, {
      ...(query.consumer === undefined ? {} : { consumer: query.consumer }),
      ...(query.start === undefined ? {} : { start: query.start }),
      ...(query.end === undefined ? {} : { end: query.end }),
      ...(query.count === undefined ? {} : { count: query.count }),
      ...(query.minIdleMs === undefined ? {} : { minIdleMs: query.minIdleMs }),
    });
    return { entries };
  });
}

function registerClaims(app: FastifyInstance, options: StreamRouteOptions, writes: StreamWrites): void {
  const { store } = options;
  app.post(`${GROUP_PATH}/claim`, async (request) => {
    const { storageKey } = streamOf(request, options);
    const { consumer, minIdleMs, ids, ...rest } = parseClaimBody(request.body);
    const claimed = await writes.run(storageKey.length, () =>
      store.streams.claim(storageKey, groupOf(request), consumer, minIdleMs, ids, rest),
    );
    return claimJson(claimed);
  });

  app.post(`${GROUP_PATH}/autoclaim`, async (request) => {
    const { storageKey } = streamOf(request, options);
    const { consumer, minIdleMs, start, ...rest } = parseAutoClaimBody(request.body);
    const claimed = await writes.run(storageKey.length, () =>
      store.streams.autoClaim(storageKey, groupOf(request), consumer, minIdleMs, start ?? "0-0", rest),
    );
    return claimJson(claimed);
  });
}

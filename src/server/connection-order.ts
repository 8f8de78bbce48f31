/**
 * Request order within one connection. Node hands the pipelined requests of an HTTP/1.1
 * connection to the application as soon as it has parsed them, so without this a GET sent
 * right behind a PUT would run while the PUT waits for its fdatasync, and read the state from
 * before it. HTTP/1.1 lets a server handle pipelined requests in parallel only when all of them
 * are safe (RFC 9112 §9.3.2). So a request starts only once every earlier non-safe request on
 * its connection has its response decided (sent, failed or aborted); a safe request after safe
 * ones starts at once. Responses already leave in request order (Node queues them).
 *
 * Per connection this keeps one promise, `tail`, that settles when every non-safe request so
 * far is decided; it is dropped when it settles with no newer one behind it, so a connection
 * that does not pipeline holds nothing between requests.
 */
import type { Socket } from "node:net";
import type { FastifyInstance, FastifyRequest } from "fastify";

declare module "fastify" {
  interface FastifyRequest {
    /** Lets the requests behind this non-safe one start; undefined once called, or when safe. */
    releaseOrder: (() => void) | undefined;
  }
}

/** Methods that do not change state (RFC 9110 §9.2.1): they may run side by side. */
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);

/** Registers the hooks; call it before the hooks that act on a request (auth, admission). */
export function registerConnectionOrder(app: FastifyInstance): void {
  const tails = new WeakMap<Socket, Promise<void>>();
  app.decorateRequest("releaseOrder", undefined);

  app.addHook("onRequest", (request, _reply, done) => {
    const socket = request.raw.socket;
    const earlier = tails.get(socket);
    if (!SAFE_METHODS.has(request.method)) {
      let release!: () => void;
      const own = new Promise<void>((resolve) => {
        release = resolve;
      });
      request.releaseOrder = release;
      const tail = earlier === undefined ? own : earlier.then(() => own);
      tails.set(socket, tail);
      void tail.then(() => {
        if (tails.get(socket) === tail) tails.delete(socket);
      });
    }
    if (earlier === undefined) done();
    else void earlier.then(() => done());
  });

  // The response is decided when it is handed to be sent (success or error). A request that
  // never gets one (its client went away) is decided when it is aborted.
  app.addHook("onSend", (request, _reply, payload, done) => {
    releaseOrder(request);
    done(null, payload);
  });
  app.addHook("onRequestAbort", (request, done) => {
    releaseOrder(request);
    done();
  });
  app.addHook("onResponse", (request, _reply, done) => {
    releaseOrder(request);
    done();
  });
}

function releaseOrder(request: FastifyRequest): void {
  const release = request.releaseOrder;
  if (release === undefined) return;
  request.releaseOrder = undefined;
  release();
}

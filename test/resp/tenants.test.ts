/**
 * Tenants and security on the Redis endpoint, as on HTTP: AUTH with the same tokens maps to the
 * same tenants; nothing but AUTH/QUIT runs before it; a read-only token writes nothing; one
 * tenant's keys are invisible to another, and the same keys over HTTP and RESP; no tokens on a
 * non-loopback host refuses to start; TLS with the HTTP certificate settings.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { connect as connectTls } from "node:tls";
import { type Certificates, makeCertificates } from "../support/certificates.js";
import { RawClient, RespReplyError, type RespTestServer, startRespServer } from "../support/resp.js";
import { tempDir } from "../support/temp.js";

const ACME = "acme-token-0123456789";
const ACME_READER = "acme-reader-0123456789";
const BETA = "beta-token-0123456789";
const ACME2 = "acme2-token-0123456789";

function isError(reply: unknown, prefix: string): boolean {
  return reply instanceof RespReplyError && reply.message.startsWith(prefix);
}

describe("with tokens", () => {
  let s: RespTestServer;
  const clients: RawClient[] = [];
  const client = async (token?: string) => {
    const c = await RawClient.connect(s.respPort);
    clients.push(c);
    if (token !== undefined) assert.equal(await c.call("AUTH", token), "OK");
    return c;
  };
  before(async () => {
    s = await startRespServer({
      tokens: [
        { token: ACME, tenant: "acme" },
        { token: ACME_READER, tenant: "acme", access: "read" },
        { token: BETA, tenant: "beta" },
        { token: ACME2, tenant: "acme2" },
      ],
    });
  });
  after(async () => {
    for (const c of clients) c.close();
    await s.stop();
  });

  test("before AUTH every command but AUTH and QUIT answers NOAUTH; a wrong token WRONGPASS", async () => {
    const c = await client();
    assert.deepEqual(await c.call("PING"), new RespReplyError("NOAUTH Authentication required."));
    assert.deepEqual(await c.call("GET", "k"), new RespReplyError("NOAUTH Authentication required."));
    assert.deepEqual(await c.call("SET", "k", "v"), new RespReplyError("NOAUTH Authentication required."));
    assert.deepEqual(await c.pipeline([["MULTI"], ["SET", "k", "v"]]), [
      new RespReplyError("NOAUTH Authentication required."),
      new RespReplyError("NOAUTH Authentication required."),
    ]);
    const wrong = new RespReplyError("WRONGPASS invalid username-password pair or user is disabled.");
    assert.deepEqual(await c.call("AUTH", "not-a-token-at-all"), wrong);
    assert.deepEqual(await c.call("AUTH", "beta", ACME), wrong, "a username that is not the token's tenant");
    assert.deepEqual(await c.call("GET", "k"), new RespReplyError("NOAUTH Authentication required."));
    assert.equal(await c.call("AUTH", "acme", ACME), "OK");
    assert.equal(await c.call("PING"), "PONG");
    assert.equal(await c.call("QUIT"), "OK");
    await c.closed;
  });

  test("HELLO signs in with AUTH, and without it asks for it", async () => {
    const c = await client();
    const bare = await c.call("HELLO", "2");
    assert.ok(bare instanceof RespReplyError && bare.message.startsWith("NOAUTH"), String(bare));
    const wrong = await c.call("HELLO", "2", "AUTH", "default", "not-a-token-at-all");
    assert.ok(wrong instanceof RespReplyError && wrong.message.startsWith("WRONGPASS"), String(wrong));
    const hello = await c.call("HELLO", "2", "AUTH", "acme", ACME);
    assert.ok(Array.isArray(hello), String(hello));
    assert.equal(await c.call("SET", "via-hello", "1"), "OK");
    assert.equal((await s.call("GET", "/v1/kv/via-hello", { token: ACME })).text, "1");
  });

  test("before AUTH a command is limited to 10 arguments of 16 KiB; the connection is closed", async () => {
    const many = await client();
    many.send("*11\r\n");
    assert.deepEqual(await many.next(), new RespReplyError("ERR Protocol error: unauthenticated multibulk length"));
    await many.closed;
    const big = await client();
    big.send("*2\r\n$3\r\nGET\r\n$16385\r\n");
    assert.deepEqual(await big.next(), new RespReplyError("ERR Protocol error: unauthenticated bulk length"));
    await big.closed;
    // Once authenticated, the endpoint's own limits apply.
    const signedIn = await client(ACME);
    assert.equal(await signedIn.call("SET", "big", "x".repeat(100_000)), "OK");
    assert.equal(((await signedIn.call("GET", "big")) as string).length, 100_000);
  });

  test("one tenant's keys are invisible to another, whatever the key's spelling", async () => {
    const acme = await client(ACME);
    const beta = await client(BETA);
    const acme2 = await client(ACME2);
    assert.equal(await acme.call("SET", "secret", "acme's"), "OK");
    assert.equal(await beta.call("GET", "secret"), null);
    assert.equal(await acme2.call("GET", "secret"), null);
    for (const spelling of ["../acme/secret", "k/acme/secret", "/k/acme/secret", "\0secret", "acme/secret"]) {
      assert.equal(await beta.call("GET", spelling), null, spelling);
    }
    assert.equal(await beta.call("SET", "secret", "beta's"), "OK");
    assert.equal(await acme.call("GET", "secret"), "acme's");
    assert.equal(await beta.call("GET", "secret"), "beta's");
    // A client that signs in again as another tenant sees that tenant's keys from then on.
    assert.equal(await acme.call("AUTH", BETA), "OK");
    assert.equal(await acme.call("GET", "secret"), "beta's");
  });

  test("a read-only token reads and gets NOPERM for every write, inside MULTI too", async () => {
    const writer = await client(ACME);
    assert.equal(await writer.call("SET", "shared", "1"), "OK");
    const reader = await client(ACME_READER);
    assert.equal(await reader.call("GET", "shared"), "1");
    assert.deepEqual(
      await reader.call("SET", "shared", "2"),
      new RespReplyError("NOPERM this user has no permissions to run the 'set' command"),
    );
    const queued = await reader.pipeline([["MULTI"], ["SET", "shared", "3"], ["GET", "shared"], ["EXEC"]]);
    assert.equal(queued[0], "OK");
    assert.ok(isError(queued[1], "NOPERM"), String(queued[1]));
    assert.equal(queued[2], "QUEUED");
    assert.ok(isError(queued[3], "EXECABORT"), String(queued[3]));
    assert.equal(await writer.call("GET", "shared"), "1");
  });

  test("the same keys over HTTP and RESP, for the same tenant only; values are bytes", async () => {
    const acme = await client(ACME);
    const json = '{"name":"hé ✓"}';
    assert.equal(await acme.call("SET", "doc", json), "OK");
    const overHttp = await s.call("GET", "/v1/kv/doc", { token: ACME });
    assert.equal(overHttp.status, 200);
    assert.equal(overHttp.text, json);
    assert.equal((await s.call("GET", "/v1/kv/doc", { token: BETA })).status, 404);
    assert.equal((await s.call("PUT", "/v1/kv/caf%C3%A9", { json: { n: "ü" }, token: ACME })).status, 200);
    assert.equal(await acme.call("GET", "café"), Buffer.from('{"n":"ü"}').toString("latin1"));
    const beta = await client(BETA);
    assert.equal(await beta.call("GET", "café"), null);
    assert.equal((await s.call("GET", "/v1/kv/doc", { token: ACME_READER })).text, json);
  });

  test("failed AUTHs and refused writes are counted in /metrics", async () => {
    const metrics = (await s.call("GET", "/metrics", { token: ACME })).text;
    const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}]/g, "\\$&")} (\\S+)$`, "m").exec(metrics)?.[1]);
    assert.ok(value('logbook_resp_refusals_total{reason="auth_failed"}') >= 2);
    assert.ok(value('logbook_resp_refusals_total{reason="no_permission"}') >= 2);
    assert.ok(value('logbook_resp_refusals_total{reason="protocol_error"}') >= 2);
    assert.ok(value('logbook_resp_commands_rejected_total{command="get"}') >= 2);
  });
});

describe("without tokens", () => {
  test("every client is the default tenant, and AUTH says no password is configured", async () => {
    const s = await startRespServer();
    const c = await RawClient.connect(s.respPort);
    try {
      assert.equal(await c.call("SET", "k", "v"), "OK");
      assert.equal((await s.call("GET", "/v1/kv/k")).text, "v");
      const auth = await c.call("AUTH", "anything-at-all-0123");
      assert.ok(isError(auth, "ERR AUTH <password> called without any password configured"), String(auth));
    } finally {
      c.close();
      await s.stop();
    }
  });

  test("a server on a non-loopback host refuses to start, Redis endpoint included", async () => {
    await assert.rejects(startRespServer({ host: "0.0.0.0" }), { code: "LOGBOOK_INVALID_OPTION" });
  });
});

describe("TLS", () => {
  let certs: Certificates;
  let cleanup: () => Promise<void>;
  before(async () => {
    const dir = await tempDir("logbook-resp-certs-");
    cleanup = dir.cleanup;
    certs = makeCertificates(dir.path);
  });
  after(() => cleanup());

  const tlsClient = (port: number, identity: { cert?: Buffer; key?: Buffer } = {}) =>
    new Promise<RawClient>((resolve, reject) => {
      const socket = connectTls({ host: "127.0.0.1", port, ca: readFileSync(certs.ca), ...identity }, () =>
        resolve(RawClient.over(socket)),
      );
      socket.once("error", reject);
    });

  test("with --tls-cert and --tls-key the Redis endpoint speaks TLS; plain text on it is dropped", async () => {
    const s = await startRespServer({
      tlsCert: certs.serverCert,
      tlsKey: certs.serverKey,
      tokens: [{ token: ACME, tenant: "acme" }],
    });
    try {
      assert.match(s.server.resp?.url ?? "", /^rediss:\/\//);
      const c = await tlsClient(s.respPort);
      assert.equal(await c.call("AUTH", ACME), "OK");
      assert.equal(await c.call("SET", "over-tls", "yes"), "OK");
      assert.equal(await c.call("GET", "over-tls"), "yes");
      c.close();
      const plain = await RawClient.connect(s.respPort);
      plain.send("PING\r\n");
      await plain.closed;
      const again = await tlsClient(s.respPort);
      assert.deepEqual(await again.call("GET", "over-tls"), new RespReplyError("NOAUTH Authentication required."));
      again.close();
    } finally {
      await s.stop();
    }
  });

  test("with --tls-ca a client certificate signed by it is required", async () => {
    const s = await startRespServer({ tlsCert: certs.serverCert, tlsKey: certs.serverKey, tlsCa: certs.ca });
    try {
      const refused = await tlsClient(s.respPort).then(
        async (c) => {
          // TLS 1.3 reports the refusal after the handshake: the first exchange fails.
          c.send("PING\r\n");
          await c.closed;
          return true;
        },
        () => true,
      );
      assert.ok(refused);
      const good = await tlsClient(s.respPort, { cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey) });
      assert.equal(await good.call("PING"), "PONG");
      good.close();
    } finally {
      await s.stop();
    }
  });
});

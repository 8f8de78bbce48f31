/**
 * TLS and mutual TLS: HTTPS with the configured certificate; with a CA, a client without a
 * certificate it signed is refused in the handshake; junk on the TLS port is dropped and the
 * server goes on serving.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { after, before, describe, test } from "node:test";
import { type Certificates, makeCertificates } from "../support/certificates.js";
import { rawExchange } from "../support/raw-http.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { tempDir } from "../support/temp.js";

let certs: Certificates;
let cleanup: () => Promise<void>;

before(async () => {
  const dir = await tempDir("logbook-certs-");
  cleanup = dir.cleanup;
  certs = makeCertificates(dir.path);
});
after(() => cleanup());

interface HttpsReply {
  status?: number;
  body?: string;
  error?: string;
}

function httpsCall(port: number, method: string, path: string, options: { client?: "good" | "stranger"; body?: string } = {}) {
  return new Promise<HttpsReply>((resolve) => {
    const identity =
      options.client === "good"
        ? { cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey) }
        : options.client === "stranger"
          ? { cert: readFileSync(certs.strangerCert), key: readFileSync(certs.strangerKey) }
          : {};
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method,
        path,
        ca: readFileSync(certs.ca),
        ...identity,
        headers: options.body === undefined ? {} : { "content-type": "application/json" },
        agent: false,
      },
      (res) => {
        let body = "";
        res.on("data", (chunk: Buffer) => {
          body += chunk.toString();
        });
        res.on("end", () => resolve({ status: res.statusCode as number, body }));
      },
    );
    req.on("error", (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
    req.end(options.body);
  });
}

describe("TLS", () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ tlsCert: certs.serverCert, tlsKey: certs.serverKey, headersTimeoutMs: 1000 });
  });
  after(() => s.stop());

  test("serves HTTPS with the configured certificate", async () => {
    assert.match(s.url, /^https:/);
    const port = s.server.address.port;
    assert.equal((await httpsCall(port, "PUT", "/v1/kv/tls", { body: '"secret"' })).status, 200);
    const get = await httpsCall(port, "GET", "/v1/kv/tls");
    assert.equal(get.status, 200);
    assert.equal(get.body, '"secret"');
  });

  test("junk and plain HTTP on the TLS port are dropped; the server goes on", async () => {
    const port = s.server.address.port;
    const junk = [
      Buffer.from("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"),
      Buffer.alloc(4096, 0xff),
      Buffer.from([0x16, 0x03, 0x01, 0xff, 0xff, 0x01]),
      Buffer.from([0x16, 0x03, 0x03, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00]),
      Buffer.alloc(0),
    ];
    for (const bytes of junk) {
      const answer = await rawExchange(port, bytes, 4000);
      assert.equal(answer.status, undefined, "no HTTP answer in plain text");
      assert.ok(answer.closedByServer, `the server closed the connection (${bytes.length} bytes of junk)`);
    }
    assert.equal((await httpsCall(port, "GET", "/healthz")).status, 200);
  });
});

describe("mutual TLS", () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ tlsCert: certs.serverCert, tlsKey: certs.serverKey, tlsCa: certs.ca });
  });
  after(() => s.stop());

  test("a client certificate signed by the CA is required", async () => {
    const port = s.server.address.port;
    const none = await httpsCall(port, "GET", "/healthz");
    assert.ok(none.error !== undefined || none.status === undefined, `no certificate: ${JSON.stringify(none)}`);
    const stranger = await httpsCall(port, "GET", "/healthz", { client: "stranger" });
    assert.ok(stranger.error !== undefined, `a stranger's certificate: ${JSON.stringify(stranger)}`);
    const good = await httpsCall(port, "PUT", "/v1/kv/mtls", { client: "good", body: "1" });
    assert.equal(good.status, 200);
  });
});

test("TLS settings are checked at start: a certificate needs its key, a CA needs both", async () => {
  await assert.rejects(startTestServer({ tlsCert: "/nonexistent.crt" }), { code: "LOGBOOK_INVALID_OPTION" });
  await assert.rejects(startTestServer({ tlsCa: "/nonexistent.crt" }), { code: "LOGBOOK_INVALID_OPTION" });
  await assert.rejects(startTestServer({ tlsCert: "/nonexistent.crt", tlsKey: "/nonexistent.key" }), {
    code: "LOGBOOK_INVALID_OPTION",
    message: /cannot read the TLS certificate/,
  });
});

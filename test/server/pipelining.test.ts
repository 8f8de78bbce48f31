/**
 * Requests pipelined on one HTTP/1.1 connection: a request after a write (any method that is
 * not safe) sees that write's effect, as if the client had waited for each answer. Sent on a
 * raw socket in a single write, so the server has every request before it answers the first.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { rawExchange } from "../support/raw-http.js";
import { startTestServer, type TestServer } from "../support/server.js";

interface Answer {
  status: number;
  body: string;
}

/** One request's bytes; the last of a pipeline asks the server to close, so the exchange ends. */
function request(method: string, path: string, { body = "", last = false, headers = [] as string[] } = {}): string {
  const lines = [`${method} ${path} HTTP/1.1`, "Host: 127.0.0.1", `Connection: ${last ? "close" : "keep-alive"}`, ...headers];
  if (body.length > 0) lines.push("Content-Type: application/json", `Content-Length: ${Buffer.byteLength(body)}`);
  return `${lines.join("\r\n")}\r\n\r\n${body}`;
}

/** The responses in `text`, in order (bodies framed by Content-Length, as the server sends them). */
function parseResponses(text: string): Answer[] {
  const answers: Answer[] = [];
  let rest = text;
  for (let guard = 0; rest.length > 0 && guard < 100; guard++) {
    const headEnd = rest.indexOf("\r\n\r\n");
    assert.notEqual(headEnd, -1, `an incomplete response: ${JSON.stringify(rest)}`);
    const head = rest.slice(0, headEnd);
    const status = /^HTTP\/1\.1 (\d{3})/.exec(head);
    assert.ok(status !== null, `not a status line: ${JSON.stringify(head)}`);
    const length = /\r\ncontent-length: (\d+)/i.exec(head);
    const bodyBytes = length === null ? 0 : Number(length[1]);
    answers.push({ status: Number(status[1]), body: rest.slice(headEnd + 4, headEnd + 4 + bodyBytes) });
    rest = rest.slice(headEnd + 4 + bodyBytes);
  }
  return answers;
}

async function pipeline(port: number, requests: string[]): Promise<Answer[]> {
  const answer = await rawExchange(port, requests.join(""), 5000);
  assert.ok(answer.closedByServer, "the server did not finish the pipeline in time");
  return parseResponses(answer.text);
}

describe("pipelined requests on one connection", () => {
  let s: TestServer;
  let port: number;
  before(async () => {
    s = await startTestServer();
    port = new URL(s.url).port as unknown as number;
  });
  after(() => s.stop());

  test("a GET pipelined after a PUT of the same key answers the value just written", async () => {
    for (let attempt = 0; attempt < 20; attempt++) {
      const key = `put-get-${attempt}`;
      const answers = await pipeline(port, [
        request("PUT", `/v1/kv/${key}`, { body: JSON.stringify(`v${attempt}`) }),
        request("GET", `/v1/kv/${key}`, { last: true }),
      ]);
      assert.deepEqual(
        answers.map((a) => a.status),
        [200, 200],
        `attempt ${attempt}`,
      );
      assert.equal(answers[1]?.body, JSON.stringify(`v${attempt}`), `attempt ${attempt}`);
    }
  });

  test("a GET pipelined after a DELETE of the same key answers 404", async () => {
    for (let attempt = 0; attempt < 10; attempt++) {
      const key = `delete-get-${attempt}`;
      assert.equal((await s.call("PUT", `/v1/kv/${key}`, { json: "old" })).status, 200);
      const answers = await pipeline(port, [request("DELETE", `/v1/kv/${key}`), request("GET", `/v1/kv/${key}`, { last: true })]);
      assert.deepEqual(
        answers.map((a) => a.status),
        [200, 404],
        `attempt ${attempt}: ${answers[1]?.body}`,
      );
    }
  });

  test("a run of writes and reads on one connection answers as if each waited for the one before", async () => {
    const key = "sequence";
    const answers = await pipeline(port, [
      request("PUT", `/v1/kv/${key}`, { body: '"one"' }),
      request("GET", `/v1/kv/${key}`),
      request("GET", `/v1/kv/${key}`),
      request("POST", "/v1/kv:batch", { body: JSON.stringify({ operations: [{ type: "put", key, value: "two" }] }) }),
      request("GET", `/v1/kv/${key}`),
      request("PUT", `/v1/kv/${key}`, { body: '"three"' }),
      request("DELETE", `/v1/kv/${key}`),
      request("GET", `/v1/kv/${key}`, { last: true }),
    ]);
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 200, 200, 200, 200, 200, 200, 404],
    );
    assert.deepEqual([answers[1]?.body, answers[2]?.body, answers[4]?.body], ['"one"', '"one"', '"two"']);
  });

  test("a write that fails still lets the requests after it run", async () => {
    const answers = await pipeline(port, [
      request("PUT", "/v1/kv/refused", { body: '"x"', headers: ['If-Match: "999"'] }),
      request("DELETE", "/v1/kv/never-written"),
      request("PUT", "/v1/kv/after", { body: '"y"' }),
      request("GET", "/v1/kv/refused"),
      request("GET", "/v1/kv/after", { last: true }),
    ]);
    assert.deepEqual(
      answers.map((a) => a.status),
      [412, 404, 200, 404, 200],
    );
  });
});

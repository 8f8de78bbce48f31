import { createServer } from "node:http";

/**
 * An OTLP/HTTP collector that accepts and counts what it is sent, on 127.0.0.1: the traced
 * servers of the benchmarks export to it, so their exporters do the work they would in
 * production (batching, encoding, one POST per batch) and nothing is kept.
 */
export async function startOtlpSink(): Promise<{ url: string; bytes: () => number; close: () => void }> {
  let received = 0;
  const sink = createServer((request, response) => {
    request.on("data", (chunk: Buffer) => {
      received += chunk.length;
    });
    request.on("end", () => response.writeHead(200, { "content-type": "application/x-protobuf" }).end());
  });
  await new Promise<void>((resolve) => sink.listen(0, "127.0.0.1", resolve));
  const { port } = sink.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, bytes: () => received, close: () => sink.close() };
}

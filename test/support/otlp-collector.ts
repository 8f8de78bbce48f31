/**
 * An OTLP/HTTP JSON collector on 127.0.0.1 that keeps every span it is sent, with the resource
 * it came under: the exporters under test send to it as they would to a real one.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  traceState?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: Record<string, unknown> }[];
  events: { name: string }[];
}

export interface ExportedResource {
  attributes: { key: string; value: { stringValue?: string } }[];
}

export interface Collector {
  /** The base URL; traces go to `${url}/v1/traces`. */
  url: string;
  spans: ExportedSpan[];
  /** The resource of each scope's spans, in arrival order. */
  resources: ExportedResource[];
  close: () => Promise<void>;
}

export async function startCollector(): Promise<Collector> {
  const spans: ExportedSpan[] = [];
  const resources: ExportedResource[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      for (const resourceSpans of body.resourceSpans ?? []) {
        for (const scope of resourceSpans.scopeSpans ?? []) {
          resources.push(resourceSpans.resource);
          spans.push(...(scope.spans ?? []));
        }
      }
      response.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    resources,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * Durable PUTs against one server from a process of its own: `node --import tsx
 * bench/support/put-load.ts URL CONNECTIONS SECONDS KEYS [RATE]` prints autocannon's figures as
 * one JSON line; RATE caps the requests per second of all connections together. Two servers
 * compared A/B each get a load generator of their own this way: from one event loop the two
 * loads are not symmetric (a server's figure depends on which slot it is in), and the request
 * pattern a server sees changes its CPU per request.
 */
import autocannon from "autocannon";

const [url, connections, seconds, keys, rate] = process.argv.slice(2);
const keysMax = Number(keys);
const value = JSON.stringify("v".repeat(98));
let next = 0;
const result = await autocannon({
  url: url as string,
  connections: Number(connections),
  duration: Number(seconds),
  ...(rate === undefined ? {} : { overallRate: Number(rate) }),
  requests: [
    {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: value,
      setupRequest: (request) => ({ ...request, path: `/v1/kv/key-${next++ % keysMax}` }),
    },
  ],
});
console.log(
  JSON.stringify({
    requests: result.requests.total,
    requestsPerSecond: result.requests.average,
    errors: result.errors + result.non2xx + result.timeouts,
  }),
);

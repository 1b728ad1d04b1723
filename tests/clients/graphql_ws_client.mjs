// A frontend's subscriptions through graphql-ws (the npm client, pinned in package.json) over `ws`.
//
// Usage: node graphql_ws_client.mjs '<spec JSON>'
//   spec = { url, connectionParams, timeoutMs,
//            operations: [{ label, query, variables, take }] }
// Subscribes to each operation in order on one connection, and prints one JSON line per thing that
// happens, for tests/test_js_clients.py to read and assert on:
//   {"connected": true}                       the server acknowledged connection_init
//   {"label": L, "next": {data, errors?}}     an event of operation L
//   {"label": L, "error": [...] | {...}}      operation L ended with an error (GraphQL errors or a close)
//   {"label": L, "complete": true}            the server completed operation L
//   {"done": true}                            every operation got its `take` events or ended
//   {"timeout": true, "pending": [L, ...]}    timeoutMs passed first (exit status 2)
// An operation is disposed (graphql-ws sends `complete`) once it has received `take` events.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const spec = JSON.parse(process.argv[2]);
const say = (line) => process.stdout.write(JSON.stringify(line) + '\n');

const client = createClient({
  url: spec.url,
  webSocketImpl: WebSocket,
  connectionParams: spec.connectionParams ?? {},
  lazy: false,
  retryAttempts: 0,
  on: { connected: () => say({ connected: true }) },
});

const pending = new Set(spec.operations.map((op) => op.label));
let finished = false;

async function finish(line, status) {
  if (finished) return;
  finished = true;
  clearTimeout(timer);
  say(line);
  await client.dispose();
  process.exit(status);
}

// A hang must fail fast, not stall the test run.
const timer = setTimeout(() => finish({ timeout: true, pending: [...pending] }, 2), spec.timeoutMs ?? 15000);

function settled(label) {
  pending.delete(label);
  if (pending.size === 0) finish({ done: true }, 0);
}

for (const op of spec.operations) {
  let received = 0;
  const dispose = client.subscribe(
    { query: op.query, variables: op.variables ?? {} },
    {
      next(value) {
        say({ label: op.label, next: value });
        received += 1;
        if (received >= (op.take ?? 1)) {
          dispose();
          settled(op.label);
        }
      },
      error(error) {
        // GraphQL errors arrive as an array; a closed socket as a CloseEvent-like object.
        let detail;
        if (Array.isArray(error)) detail = error;
        else if (typeof error?.code === 'number') detail = { code: error.code, reason: error.reason };
        else detail = { message: String(error?.message ?? error) };
        say({ label: op.label, error: detail });
        settled(op.label);
      },
      complete() {
        say({ label: op.label, complete: true });
        settled(op.label);
      },
    },
  );
}

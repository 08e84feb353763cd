/**
 * The peer of bench/overhead.ts, in its own process so its CPU time does not compete with the
 * measured side: an HTTP server (answers every request with a small JSON body), and on request
 * a WebSocket client that runs an echo loop against the parent's server and reports the time.
 */
import { createServer } from 'node:http';
import { once } from 'node:events';
import { WebSocket } from 'ws';

const body = JSON.stringify({ id: 'chatcmpl-1', choices: [{ message: { content: 'ok' } }] });
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ port: typeof address === 'object' && address !== null ? address.port : 0 });
});

interface EchoRequest {
  url: string;
  n: number;
  message: string;
}

process.on('message', (msg: EchoRequest | 'exit') => {
  if (msg === 'exit') {
    server.close();
    process.exit(0);
  }
  void echoLoop(msg).then((ns) => process.send?.({ ns }));
});

async function echoLoop({ url, n, message }: EchoRequest): Promise<number> {
  const ws = new WebSocket(url);
  await once(ws, 'open');
  let left = n;
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  ws.on('message', () => {
    if (--left === 0) resolveDone();
    else ws.send(message);
  });
  const start = process.hrtime.bigint();
  ws.send(message);
  await done;
  const ns = Number(process.hrtime.bigint() - start) / n;
  ws.close(1000, 'done');
  await once(ws, 'close');
  return ns;
}

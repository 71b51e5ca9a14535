import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * What the proxy does to each request: pass it on; answer 503 SlowDown (S3 under load); or
 * 'timeout': read the request, answer nothing, and drop the connection after `hangMs`, the way a
 * request that timed out at a load balancer looks to the client (the SDK's own 120 s request
 * timeout would make a plain black hole take minutes per attempt).
 */
export type FaultMode = 'pass' | '503' | 'timeout';

export interface HttpFaultProxy {
  readonly endpoint: string;
  mode: FaultMode;
  /** Requests answered with a fault so far, by mode. */
  readonly faults: { readonly '503': number; readonly timeout: number };
  /** Requests passed to the target. */
  readonly passed: number;
  stop(): Promise<void>;
}

const SLOW_DOWN =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate (injected by the fault proxy).</Message><RequestId>fault</RequestId></Error>';

/** A loopback HTTP proxy in front of s3rver. Passed requests go through byte for byte (Host included, so SigV4 verifies). */
export async function startHttpFaultProxy(target: string, opts: { hangMs?: number } = {}): Promise<HttpFaultProxy> {
  const to = new URL(target);
  const hangMs = opts.hangMs ?? 1500;
  const sockets = new Set<Socket>();
  const faults = { '503': 0, timeout: 0 };
  let passed = 0;
  const state = { mode: 'pass' as FaultMode };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const mode = state.mode;
    if (mode === '503') {
      faults['503']++;
      req.resume();
      req.on('end', () => {
        res.writeHead(503, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(SLOW_DOWN), 'retry-after': '0' });
        res.end(SLOW_DOWN);
      });
      return;
    }
    if (mode === 'timeout') {
      faults.timeout++;
      req.resume();
      setTimeout(() => req.socket.destroy(), hangMs).unref();
      return;
    }
    passed++;
    const upstream = request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => req.socket.destroy());
    req.pipe(upstream);
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get mode() {
      return state.mode;
    },
    set mode(m: FaultMode) {
      state.mode = m;
    },
    faults,
    get passed() {
      return passed;
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

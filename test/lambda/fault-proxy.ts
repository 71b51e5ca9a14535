import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Which requests to fail: method and the decoded path ("/bucket/key"). */
export type FaultRule = (method: string, path: string) => boolean;

export interface FaultProxy {
  /** Point clients here instead of at the target. */
  readonly endpoint: string;
  /** Fail matching requests with 503 SlowDown-style errors from now on; undefined heals. */
  fail(rule: FaultRule | undefined): void;
  /** Requests failed so far. */
  readonly failed: number;
  stop(): Promise<void>;
}

const ERROR_BODY =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>ServiceUnavailable</Code><Message>injected by the test proxy</Message><RequestId>fault</RequestId></Error>';

/**
 * A loopback HTTP proxy in front of s3rver that answers chosen requests with HTTP 503, the
 * failure S3 gives under load, which s3rver itself cannot produce. Everything else is passed
 * through byte for byte, Host header included, so SigV4 signatures still verify.
 */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const to = new URL(target);
  let rule: FaultRule | undefined;
  let failed = 0;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    if (rule?.(req.method ?? 'GET', path)) {
      failed++;
      req.resume();
      req.on('end', () => {
        res.writeHead(503, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(ERROR_BODY) });
        res.end(ERROR_BODY);
      });
      return;
    }
    const upstream = request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', (err) => {
      res.writeHead(502);
      res.end(String(err));
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    fail(r) {
      rule = r;
    },
    get failed() {
      return failed;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

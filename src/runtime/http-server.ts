import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Readiness {
  readonly ready: boolean;
  readonly reasons: readonly string[];
}

export interface HealthEndpoints {
  /** Prometheus exposition text. */
  metrics(): Promise<string>;
  readiness(): Readiness;
}

/** /healthz (the process answers), /readyz (sources connected, checkpoints moving), /metrics. */
export async function startHttpServer(host: string, port: number, endpoints: HealthEndpoints): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n');
    if (path === '/healthz') return send(200, 'ok\n');
    if (path === '/readyz') {
      const r = endpoints.readiness();
      return send(r.ready ? 200 : 503, `${JSON.stringify(r)}\n`, 'application/json');
    }
    if (path === '/metrics') {
      endpoints.metrics().then(
        (text) => send(200, text, 'text/plain; version=0.0.4; charset=utf-8'),
        (err: unknown) => send(500, `metrics failed: ${(err as Error).message}\n`),
      );
      return;
    }
    send(404, 'not found: try /healthz, /readyz or /metrics\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    server,
    port: actual,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

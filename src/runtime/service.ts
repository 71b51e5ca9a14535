import type { IntegratorConfig } from '../config/schema.js';
import { errorMessage, IntegratorError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { createLogger } from '../observability/logger.js';
import { PromMetrics } from '../observability/prom-metrics.js';
import { buildPipeline, type PipelineSummary } from '../pipeline/build-pipeline.js';
import { composeRuntime, type RuntimeOverrides } from './compose.js';
import { type Readiness, startHttpServer } from './http-server.js';

export interface ServiceOptions {
  /** Overrides service.port (0 asks the OS for a free port). */
  readonly port?: number;
  readonly log?: Logger;
  /** Install SIGTERM/SIGINT handlers (off in in-process tests). */
  readonly handleSignals?: boolean;
  readonly overrides?: RuntimeOverrides;
  /** Called once the HTTP server listens. */
  readonly onListening?: (port: number) => void;
  readonly onFinished?: (summary: PipelineSummary) => void;
}

/**
 * The container service: the pipeline plus /healthz, /readyz and /metrics, and a graceful
 * shutdown: on SIGTERM stop reading, flush open batches, commit, hand back leases, exit 0 within
 * the deadline; a second signal exits at once. Returns the exit code.
 */
export async function runService(config: IntegratorConfig, opts: ServiceOptions = {}): Promise<number> {
  const log = opts.log ?? createLogger({ level: config.logging.level });
  const metrics = new PromMetrics();
  const runtime = await composeRuntime(config, { log, metrics }, opts.overrides);
  const pipeline = buildPipeline(runtime.ports, runtime.options).start();
  const started = Date.now();
  let stopping = false;
  let lastCommits = 0;
  let lastProgressAt = Date.now();
  const stallMs = Math.max(60_000, 3 * config.batching.maxAgeMs);

  const readiness = (): Readiness => {
    const reasons: string[] = [];
    if (stopping) reasons.push('shutting down');
    const health = runtime.ports.source.health?.();
    if (health && !health.connected) reasons.push(`source not connected${health.detail ? `: ${health.detail}` : ''}`);
    const stats = pipeline.stats();
    if (stats.commits !== lastCommits || stats.inFlight === 0) {
      lastCommits = stats.commits;
      lastProgressAt = Date.now();
    } else if (Date.now() - lastProgressAt > stallMs) {
      reasons.push(`checkpoints have not advanced for ${Math.round((Date.now() - lastProgressAt) / 1000)} s with ${stats.inFlight} records in flight`);
    }
    return { ready: reasons.length === 0, reasons };
  };

  const http = await startHttpServer(config.service.host, opts.port ?? config.service.port, { metrics: () => metrics.text(), readiness });
  opts.onListening?.(http.port);
  log.info({ port: http.port, source: config.source.type, lake: runtime.lakeLocation }, `service listening on :${http.port} (/healthz /readyz /metrics)`);

  let deadline: NodeJS.Timeout | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now without waiting for the flush');
      process.exit(130);
    }
    stopping = true;
    log.info({ signal, deadlineMs: config.service.shutdownDeadlineMs }, 'stopping: no more reads; flushing open batches and committing checkpoints');
    deadline = setTimeout(() => {
      log.error({ stats: pipeline.stats() }, `shutdown deadline of ${config.service.shutdownDeadlineMs} ms passed; exiting with work unflushed (it will be re-read from the checkpoint)`);
      process.exit(1);
    }, config.service.shutdownDeadlineMs);
    deadline.unref();
    void pipeline.stop();
  };
  if (opts.handleSignals !== false) {
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }

  let code = 0;
  try {
    const summary = await pipeline.done;
    opts.onFinished?.(summary);
    log.info({ ...summary, seconds: (Date.now() - started) / 1000 }, 'pipeline drained');
  } catch (err) {
    if (stopping && err instanceof IntegratorError && err.code === 'SHUTDOWN') {
      log.warn({ err }, 'stopped while waiting on a dependency; what was not delivered is not checkpointed and will be read again');
    } else {
      code = 1;
      log.error({ err }, `pipeline stopped on an error: ${errorMessage(err)}`);
    }
  } finally {
    stopping = true;
    if (runtime.coordinator) await runtime.coordinator.releaseAll().catch((err: unknown) => log.warn({ err }, 'could not hand back leases; they will expire'));
    await runtime.close();
    await http.close();
    if (deadline) clearTimeout(deadline);
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
  return code;
}

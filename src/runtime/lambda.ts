import { type BatchItemFailure, LambdaEventSource } from '../../consumers/lambda-event/source.js';
import { errorMessage } from '../core/errors.js';
import { invocationBudgetMs, runInvocation } from './lambda-invoke.js';
import { createLambdaRuntime, type LambdaRuntime } from './lambda-runtime.js';

/**
 * The Lambda mode: a handler for Kinesis and DynamoDB Streams event source mappings with
 * ReportBatchItemFailures on. Each invocation runs the same pipeline as the container
 * (normalize → enrich → partition → batch → sink → ack) over a finite source built from the
 * event, and reports, per shard, the first record not delivered; Lambda then resumes the shard
 * at the lowest reported sequence number. A poison record goes to the DLQ like anywhere else,
 * counts as delivered and is never reported, so it cannot stall a shard.
 *
 * Configuration: INTEGRATOR_CONFIG (YAML/JSON text) or INTEGRATOR_CONFIG_FILE, plus the
 * INTEGRATOR__* overrides (see lambda-config.ts). INTEGRATOR_LAMBDA_METRICS=off silences the
 * per-invocation CloudWatch EMF line; INTEGRATOR_LAMBDA_DEADLINE_MARGIN_MS overrides the time
 * kept back from getRemainingTimeInMillis() (default: 10% of it, within 0.5–10 s).
 */

/** The parts of Lambda's context object the handler reads. */
export interface LambdaContext {
  getRemainingTimeInMillis?(): number;
  readonly awsRequestId?: string;
  readonly functionName?: string;
}

export interface StreamsEventResponse {
  readonly batchItemFailures: BatchItemFailure[];
}

// Module scope survives between invocations of a warm function: clients, connection pools,
// the DuckDB instance and the enrichment cache are built once, on the first event.
let warm: Promise<LambdaRuntime> | undefined;

function runtime(): Promise<LambdaRuntime> {
  if (!warm) {
    warm = createLambdaRuntime(process.env);
    // A failed start is not cached: the next invocation tries again (and reports the same
    // config error again, which is what the operator should see).
    warm.catch(() => {
      warm = undefined;
    });
  }
  return warm;
}

function marginFromEnv(): number | undefined {
  const raw = process.env.INTEGRATOR_LAMBDA_DEADLINE_MARGIN_MS;
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

export async function handler(event: unknown, context: LambdaContext = {}): Promise<StreamsEventResponse> {
  const budgetMs = invocationBudgetMs(context, marginFromEnv());
  const rt = await runtime();
  const log = rt.log.child({ requestId: context.awsRequestId });
  let source: LambdaEventSource;
  try {
    source = LambdaEventSource.fromEvent(event, log);
  } catch (err) {
    // Not a record problem but the wrong trigger or a broken event: fail the invocation whole.
    log.error({ err }, errorMessage(err));
    throw err;
  }
  const { ports, options } = rt;
  try {
    const outcome = await runInvocation({ ...ports, log }, options, source, budgetMs, log);
    const batchItemFailures = source.failures();
    log.info(
      {
        source: source.kind,
        records: source.size,
        ...(outcome.summary ?? {}),
        finished: outcome.finished,
        elapsedMs: outcome.elapsedMs,
        batchItemFailures: batchItemFailures.map((f) => f.itemIdentifier),
      },
      batchItemFailures.length === 0 ? 'invocation delivered every record' : 'invocation reports undelivered records',
    );
    return { batchItemFailures };
  } finally {
    const line = rt.metrics.flush({ source: source.kind, stream: source.stream });
    if (line !== undefined && process.env.INTEGRATOR_LAMBDA_METRICS !== 'off') process.stdout.write(`${line}\n`);
  }
}

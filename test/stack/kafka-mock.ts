import { spawnSync } from 'node:child_process';
import { startProcess } from './process.js';

export interface KafkaMock {
  /** Bootstrap addresses, one per mock broker, e.g. ["127.0.0.1:40123", …]. */
  readonly brokers: readonly string[];
  /** Kills the kcat process that hosts the cluster (by its pid). */
  stop(): Promise<void>;
}

const INSTALL_HINT = 'install it with `apt-get install -y kcat` (or run `bash scripts/setup-machine.sh`)';

/**
 * Starts librdkafka's mock cluster inside a kcat consumer (../../../shared/LOCAL-STACK.md). The
 * cluster lives as long as kcat does; every topic auto-creates with 4 partitions on first use
 * (`admin.createTopics` is not supported there).
 *
 * Without `-d mock`, librdkafka still prints one notice naming every broker:
 *   "Mock cluster enabled: original bootstrap.servers … replaced with 127.0.0.1:A,127.0.0.1:B"
 * and stays quiet afterwards; with `-d mock` it would log every request it serves. Both forms
 * (that one and `bootstrap.servers=…` from the debug log) are parsed.
 */
export async function startKafkaMock(opts: { brokers?: number; timeoutMs?: number } = {}): Promise<KafkaMock> {
  const count = opts.brokers ?? 1;
  assertKcat();
  const started = await startProcess(
    'kcat',
    // -C on a throwaway topic keeps kcat (and with it the cluster) alive until killed; -E keeps it
    // from exiting on the transient errors a mock cluster reports while starting; -q silences
    // the "Reached end of topic" lines.
    ['-C', '-q', '-E', '-b', '127.0.0.1:1', '-t', '_bootstrap', '-X', `test.mock.num.brokers=${count}`],
    { ready: (out) => parseBootstrap(out) !== undefined, timeoutMs: opts.timeoutMs ?? 15_000, name: 'kcat mock cluster' },
  );
  const brokers = parseBootstrap(started.output())!;
  if (brokers.length !== count) {
    await started.stop();
    throw new Error(`kcat mock cluster reported ${brokers.length} brokers, expected ${count}: ${brokers.join(',')}`);
  }
  return { brokers, stop: () => started.stop() };
}

/** The broker list from kcat's output, or undefined while it has not printed it yet. */
export function parseBootstrap(output: string): string[] | undefined {
  const m = /replaced with ((?:[\w.-]+:\d+,?)+)/.exec(output) ?? /bootstrap\.servers=((?:[\w.-]+:\d+,?)+)/.exec(output);
  if (!m) return undefined;
  return m[1]!.split(',').filter((s) => s.length > 0);
}

function assertKcat(): void {
  const probe = spawnSync('kcat', ['-V'], { stdio: 'ignore' });
  if (probe.error) throw new Error(`kcat is not installed: the Kafka mock cluster needs it; ${INSTALL_HINT}`);
}

import { spawnSync } from 'node:child_process';

/** The streaming sources the demo can feed; each needs its own emulator. */
export const DEMO_SOURCES = ['dynamodb', 'kinesis', 'kafka'] as const;
export type DemoSource = (typeof DEMO_SOURCES)[number];

export interface MissingPrerequisite {
  readonly source: DemoSource;
  readonly tool: string;
  readonly why: string;
  readonly install: string;
}

export interface Prerequisites {
  /** Sources whose emulator can run here, in DEMO_SOURCES order. */
  readonly sources: readonly DemoSource[];
  readonly missing: readonly MissingPrerequisite[];
}

const SETUP = 'or `bash scripts/setup-machine.sh`';

/** `command` runs (exit 0) with these arguments: present on PATH and working. */
function runs(command: string, args: readonly string[]): boolean {
  const r = spawnSync(command, args, { stdio: 'ignore', timeout: 15_000 });
  return !r.error && r.status === 0;
}

/**
 * Which emulators can start on this machine. kinesalite is an npm package (always there after
 * `npm ci`); DynamoDB Local needs a Java runtime and the Kafka mock cluster needs kcat. A missing
 * tool only drops its source: the demo runs with the others.
 */
export function checkPrerequisites(probe: (command: string, args: readonly string[]) => boolean = runs): Prerequisites {
  const missing: MissingPrerequisite[] = [];
  if (!probe('java', ['-version'])) {
    missing.push({
      source: 'dynamodb',
      tool: 'java',
      why: 'DynamoDB Local (the DynamoDB Streams source) is a Java program',
      install: `apt-get install -y default-jre-headless (${SETUP})`,
    });
  }
  if (!probe('kcat', ['-V'])) {
    missing.push({
      source: 'kafka',
      tool: 'kcat',
      why: "the Kafka mock broker is librdkafka's mock cluster, hosted by kcat",
      install: `apt-get install -y kcat (${SETUP})`,
    });
  }
  const dropped = new Set(missing.map((m) => m.source));
  return { sources: DEMO_SOURCES.filter((s) => !dropped.has(s)), missing };
}

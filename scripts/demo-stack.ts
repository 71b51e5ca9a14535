import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { createInventoryTable } from '../consumers/dynamodb-streams/test-support.js';
import { kafkaClient } from '../consumers/kafka/test-kit.js';
import { type DynamoDbLocal, LOCAL_CREDENTIALS, LOCAL_REGION, startDynamoDbLocal } from '../test/stack/dynamodb-local.js';
import { type KafkaMock, startKafkaMock } from '../test/stack/kafka-mock.js';
import { createStream, type Kinesalite, startKinesalite } from '../test/stack/kinesalite.js';
import type { DemoSource } from './demo-prereqs.js';

/** Names of what the demo creates in its emulators. */
export const STREAMS = { dynamodb: 'demo-inventory', kinesis: 'demo-inventory-changes', kafka: 'demo-inventory-changes' } as const;
export const KINESIS_SHARDS = 2;

/** Static credentials the emulators accept (they only check that some are present). */
export const EMULATOR_AWS = { region: LOCAL_REGION, ...LOCAL_CREDENTIALS } as const;

export interface DemoStack {
  readonly dynamodb?: { readonly endpoint: string; readonly client: DynamoDBClient; readonly table: string };
  readonly kinesis?: { readonly endpoint: string; readonly client: KinesisClient; readonly stream: string };
  readonly kafka?: { readonly brokers: readonly string[]; readonly topic: string };
  /** What runs, for the log: "DynamoDB Local pid 123 at http://…". */
  readonly described: readonly string[];
  /** Stops every emulator this stack started, each by the process it started. */
  stop(): Promise<void>;
}

/**
 * Starts the emulators of the given sources on free loopback ports (../shared/LOCAL-STACK.md),
 * side by side, and creates the DynamoDB table (with its stream), the Kinesis stream and the Kafka
 * topic. If any of them fails, the others are stopped before the error is thrown.
 */
export async function startDemoStack(sources: readonly DemoSource[]): Promise<DemoStack> {
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    await Promise.allSettled(stops.splice(0).map((s) => s()));
  };
  const want = new Set(sources);
  const track = <T extends { stop(): Promise<void> }>(p: Promise<T>): Promise<T> =>
    p.then((started) => {
      stops.push(() => started.stop());
      return started;
    });
  const [ddb, kin, kaf] = await Promise.allSettled([
    want.has('dynamodb') ? track(startDynamoDbLocal()) : Promise.resolve(undefined),
    want.has('kinesis') ? track(startKinesalite()) : Promise.resolve(undefined),
    want.has('kafka') ? track(startKafkaMock({ brokers: 1 })) : Promise.resolve(undefined),
  ]);
  const failures = [
    ddb.status === 'rejected' ? `DynamoDB Local: ${(ddb.reason as Error).message}` : '',
    kin.status === 'rejected' ? `kinesalite: ${(kin.reason as Error).message}` : '',
    kaf.status === 'rejected' ? `Kafka mock cluster: ${(kaf.reason as Error).message}` : '',
  ].filter(Boolean);
  if (failures.length > 0) {
    await stopAll();
    throw new Error(`the local stack did not start:\n  ${failures.join('\n  ')}`);
  }
  const local = (ddb as PromiseFulfilledResult<DynamoDbLocal | undefined>).value;
  const kinesalite = (kin as PromiseFulfilledResult<Kinesalite | undefined>).value;
  const kafka = (kaf as PromiseFulfilledResult<KafkaMock | undefined>).value;
  const described: string[] = [];
  try {
    let dynamodb: DemoStack['dynamodb'];
    if (local) {
      const client = local.dynamodb();
      await createInventoryTable(client, STREAMS.dynamodb);
      dynamodb = { endpoint: local.endpoint, client, table: STREAMS.dynamodb };
      described.push(`DynamoDB Local (pid ${local.pid}) at ${local.endpoint}, table ${STREAMS.dynamodb} with a NEW_AND_OLD_IMAGES stream`);
    }
    let kinesis: DemoStack['kinesis'];
    if (kinesalite) {
      const client = kinesalite.client();
      await createStream(client, STREAMS.kinesis, KINESIS_SHARDS);
      kinesis = { endpoint: kinesalite.endpoint, client, stream: STREAMS.kinesis };
      described.push(`kinesalite at ${kinesalite.endpoint}, stream ${STREAMS.kinesis} (${KINESIS_SHARDS} shards)`);
    }
    let kafkaInfo: DemoStack['kafka'];
    if (kafka) {
      const partitions = await createTopic(kafka.brokers, STREAMS.kafka);
      kafkaInfo = { brokers: kafka.brokers, topic: STREAMS.kafka };
      described.push(`Kafka mock cluster (kcat) at ${kafka.brokers.join(',')}, topic ${STREAMS.kafka} (${partitions} partitions)`);
    }
    return {
      ...(dynamodb ? { dynamodb } : {}),
      ...(kinesis ? { kinesis } : {}),
      ...(kafkaInfo ? { kafka: kafkaInfo } : {}),
      described,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/**
 * The mock cluster refuses CreateTopics but creates a topic (4 partitions) when metadata for it
 * is asked for; the service's consumer does not auto-create, so the topic must exist first.
 */
async function createTopic(brokers: readonly string[], topic: string): Promise<number> {
  const admin = kafkaClient(brokers, 'inventory-demo-admin').admin();
  await admin.connect();
  try {
    const md = await admin.fetchTopicMetadata({ topics: [topic] });
    return md.topics.find((t) => t.name === topic)?.partitions.length ?? 0;
  } finally {
    await admin.disconnect();
  }
}

import { CreateTableCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DynamoDbLocal, startDynamoDbLocal } from './dynamodb-local.js';

describe('DynamoDB Local harness', () => {
  let local: DynamoDbLocal;
  beforeAll(async () => {
    local = await startDynamoDbLocal();
  });
  afterAll(async () => {
    await local?.stop();
  });

  it('serves tables with streams that return real change records', async () => {
    const ddb = local.dynamodb();
    const created = await ddb.send(
      new CreateTableCommand({
        TableName: 'smoke',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
      }),
    );
    await ddb.send(new PutItemCommand({ TableName: 'smoke', Item: { pk: { S: 'a' }, n: { N: '1' } } }));
    const streams = local.streams();
    const arn = created.TableDescription!.LatestStreamArn!;
    const desc = await streams.send(new DescribeStreamCommand({ StreamArn: arn }));
    const shard = desc.StreamDescription!.Shards![0]!;
    const it = await streams.send(new GetShardIteratorCommand({ StreamArn: arn, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }));
    const got = await streams.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator! }));

    expect(got.Records?.map((r) => r.eventName)).toEqual(['INSERT']);
    expect(got.Records?.[0]?.dynamodb?.NewImage).toEqual({ pk: { S: 'a' }, n: { N: '1' } });
  });
});

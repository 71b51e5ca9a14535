import {
  CrawlerRunningException,
  CreateCrawlerCommand,
  EntityNotFoundException,
  GetCrawlerCommand,
  StartCrawlerCommand,
  ThrottlingException,
  UpdateCrawlerCommand,
  BatchCreatePartitionCommand,
} from '@aws-sdk/client-glue';
import { afterEach, describe, expect, it } from 'vitest';
import { METRIC } from '../../src/core/metrics.js';
import { glueCatalog, glueError, hourPartition } from './glue-fixtures.js';

const crawlerMode = (crawler: Record<string, unknown> = {}) => glueCatalog({ mode: 'crawler', crawler: { name: 'raw-crawler', debounceMs: 20, ...crawler } });
const incremental = { Crawler: { Name: 'raw-crawler', RecrawlPolicy: { RecrawlBehavior: 'CRAWL_NEW_FOLDERS_ONLY' } } } as const;

describe('Glue catalog, crawler mode', () => {
  let env: ReturnType<typeof glueCatalog>;
  afterEach(() => env.glue.restore());

  it('debounces new partitions into one StartCrawler, single flight, and ignores partitions it has seen', async () => {
    env = crawlerMode();
    env.glue.on(GetCrawlerCommand).resolves(incremental);
    env.glue.on(StartCrawlerCommand).resolves({});

    await env.catalog.partitionsCommitted([hourPartition(0)], 0);
    await env.catalog.partitionsCommitted([hourPartition(1)], 0);
    await env.catalog.partitionsCommitted([hourPartition(2), hourPartition(0)], 0);
    await env.catalog.idle();
    expect(env.glue.commandCalls(StartCrawlerCommand)).toHaveLength(1);
    expect(env.glue.commandCalls(StartCrawlerCommand)[0]!.args[0].input.Name).toBe('raw-crawler');

    await env.catalog.partitionsCommitted([hourPartition(1), hourPartition(2)], 0);
    await env.catalog.idle();
    expect(env.glue.commandCalls(StartCrawlerCommand)).toHaveLength(1);

    await env.catalog.partitionsCommitted([hourPartition(3)], 0);
    await env.catalog.idle();
    expect(env.glue.commandCalls(StartCrawlerCommand)).toHaveLength(2);
    expect(env.glue.commandCalls(BatchCreatePartitionCommand)).toHaveLength(0);
    expect(env.glue.commandCalls(GetCrawlerCommand)).toHaveLength(1);
  });

  it('treats CrawlerRunningException as a crawl in progress, not a failure, and starts once more afterwards', async () => {
    env = crawlerMode();
    env.glue.on(GetCrawlerCommand).resolves(incremental);
    env.glue.on(StartCrawlerCommand).rejectsOnce(glueError(CrawlerRunningException, 'Crawler with name raw-crawler has already started')).resolves({});

    await env.catalog.partitionsCommitted([hourPartition(0)], 0);
    await env.catalog.idle();

    expect(env.glue.commandCalls(StartCrawlerCommand)).toHaveLength(2);
    expect(env.metrics.total(METRIC.catalogFailures)).toBe(0);
    expect(env.log.messages('info')).toContain('glue crawler already running; will start it again after it finishes');
    expect(env.catalog.crawler!.started).toBe(1);
  });

  it('retries a throttled StartCrawler', async () => {
    env = crawlerMode();
    env.glue.on(GetCrawlerCommand).resolves(incremental);
    env.glue.on(StartCrawlerCommand).rejectsOnce(glueError(ThrottlingException)).resolves({});

    await env.catalog.partitionsCommitted([hourPartition(0)], 0);
    await env.catalog.idle();

    expect(env.glue.commandCalls(StartCrawlerCommand)).toHaveLength(2);
    expect(env.catalog.crawler!.started).toBe(1);
    expect(env.metrics.total(METRIC.catalogFailures)).toBe(0);
  });

  it('creates a missing crawler over the table location with CRAWL_NEW_FOLDERS_ONLY (and the LOG policies it forces)', async () => {
    env = crawlerMode({ role: 'arn:aws:iam::123456789012:role/crawler' });
    env.glue.on(GetCrawlerCommand).rejects(glueError(EntityNotFoundException));
    env.glue.on(CreateCrawlerCommand).resolves({});
    env.glue.on(StartCrawlerCommand).resolves({});

    await env.catalog.partitionsCommitted([hourPartition(0)], 0);
    await env.catalog.idle();

    const input = env.glue.commandCalls(CreateCrawlerCommand)[0]!.args[0].input;
    expect(input).toMatchObject({
      Name: 'raw-crawler',
      Role: 'arn:aws:iam::123456789012:role/crawler',
      DatabaseName: 'lake',
      Targets: { S3Targets: [{ Path: 's3://lake-bucket/raw/inventory_changes/' }] },
      RecrawlPolicy: { RecrawlBehavior: 'CRAWL_NEW_FOLDERS_ONLY' },
      SchemaChangePolicy: { UpdateBehavior: 'LOG', DeleteBehavior: 'LOG' },
    });
    expect(env.glue.commandCalls(StartCrawlerCommand)).toHaveLength(1);
  });

  it('switches an existing crawler that recrawls everything to new folders only', async () => {
    env = crawlerMode();
    env.glue.on(GetCrawlerCommand).resolves({ Crawler: { Name: 'raw-crawler', RecrawlPolicy: { RecrawlBehavior: 'CRAWL_EVERYTHING' } } });
    env.glue.on(UpdateCrawlerCommand).resolves({});
    env.glue.on(StartCrawlerCommand).resolves({});

    await env.catalog.partitionsCommitted([hourPartition(0)], 0);
    await env.catalog.idle();

    expect(env.glue.commandCalls(UpdateCrawlerCommand)[0]!.args[0].input.RecrawlPolicy).toEqual({ RecrawlBehavior: 'CRAWL_NEW_FOLDERS_ONLY' });
  });

  it('starts a crawl still waiting for its debounce when closed', async () => {
    env = crawlerMode({ debounceMs: 60_000 });
    env.glue.on(GetCrawlerCommand).resolves(incremental);
    env.glue.on(StartCrawlerCommand).resolves({});

    await env.catalog.partitionsCommitted([hourPartition(0)], 0);
    expect(env.glue.commandCalls(StartCrawlerCommand)).toHaveLength(0);
    await env.catalog.close();

    expect(env.glue.commandCalls(StartCrawlerCommand)).toHaveLength(1);
  });
});

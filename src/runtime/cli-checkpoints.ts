import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import type { IntegratorConfig } from '../config/schema.js';
import { IntegratorError } from '../core/errors.js';
import { SHARD_END } from '../core/ports.js';
import type { SourceKind } from '../core/position.js';
import { dynamoDbClient, openCheckpointStore } from './compose.js';

const sourceOf = (config: IntegratorConfig): SourceKind => config.source.type;

function streamOf(config: IntegratorConfig, flag?: string): string | undefined {
  if (flag) return flag;
  const s = config.source;
  return s.type === 'kinesis' ? s.streamName : s.type === 'dynamodb' ? s.tableName : s.type === 'kafka' ? s.topic : s.stream;
}

/**
 * Leases held by live workers: moving a checkpoint under a running worker would be undone by its
 * next checkpoint, or worse, skip records it has not delivered.
 */
async function heldLeases(config: IntegratorConfig, stream: string | undefined, shard?: string): Promise<string[]> {
  const c = config.checkpoints;
  if (c.type !== 'dynamodb') return [];
  // Imported here, not at the top: it brings the DynamoDB client into every CLI process, the service's too.
  const { scanLeases } = await import('../checkpoints/lease-table.js');
  const client = await dynamoDbClient(c.aws);
  try {
    const leases = await scanLeases(client, c.tableName, sourceOf(config), stream);
    const now = Date.now();
    return leases.filter((l) => l.owner && (l.expiresAt === undefined || l.expiresAt > now) && (!shard || l.shard === shard)).map((l) => `${l.stream}/${l.shard} (held by ${l.owner})`);
  } finally {
    client.destroy();
  }
}

async function refuseWhileLeased(config: IntegratorConfig, stream: string | undefined, shard: string | undefined, force: boolean | undefined): Promise<void> {
  const held = await heldLeases(config, stream, shard);
  if (held.length > 0 && !force) {
    throw new IntegratorError('CONFIG_INVALID', `refusing: leases are held by running workers: ${held.join(', ')}. Stop the service first, or pass --force.`);
  }
}

export function registerCheckpointCommands(program: Command): void {
  const cp = program.command('checkpoints').description('inspect and move checkpoints safely');

  cp.command('list')
    .description('print every checkpoint of the configured source')
    .requiredOption('-c, --config <file>', 'YAML configuration file')
    .option('--stream <name>', 'another stream than the configured one')
    .option('--json', 'print JSON (input for "replay --from-checkpoint FILE")')
    .action(async (o: { config: string; stream?: string; json?: boolean }) => {
      const config = loadConfig(o.config);
      const { store, close } = await openCheckpointStore(config);
      try {
        const list = await store.list(sourceOf(config), streamOf(config, o.stream));
        if (o.json) return void process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
        if (list.length === 0) return void process.stdout.write('no checkpoints\n');
        for (const c of list) process.stdout.write(`${c.source}\t${c.stream}\t${c.shard}\t${c.seq}${c.sub === undefined ? '' : `.${c.sub}`}\t${new Date(c.updatedAt).toISOString()}\n`);
      } finally {
        await close();
      }
    });

  cp.command('set')
    .description('move one shard’s checkpoint (the service resumes after it)')
    .requiredOption('-c, --config <file>', 'YAML configuration file')
    .requiredOption('--shard <id>', 'shard id, Kafka partition, or 0 for a file')
    .requiredOption('--seq <sequence>', `sequence number to resume after, or ${SHARD_END}`)
    .option('--stream <name>', 'another stream than the configured one')
    .option('--force', 'even while a worker holds the shard’s lease')
    .action(async (o: { config: string; shard: string; seq: string; stream?: string; force?: boolean }) => {
      if (o.seq !== SHARD_END && !/^\d+$/.test(o.seq)) throw new IntegratorError('CONFIG_INVALID', `--seq "${o.seq}" is not a sequence number (digits) nor ${SHARD_END}`);
      const config = loadConfig(o.config);
      const stream = streamOf(config, o.stream)!;
      await refuseWhileLeased(config, stream, o.shard, o.force);
      const { store, close } = await openCheckpointStore(config);
      try {
        const before = await store.get(sourceOf(config), stream, o.shard);
        await store.put({ source: sourceOf(config), stream, shard: o.shard, seq: o.seq });
        process.stdout.write(`${stream}/${o.shard}: ${before?.seq ?? '(none)'} → ${o.seq}\n`);
      } finally {
        await close();
      }
    });

  cp.command('reset')
    .description('delete checkpoints, so shards start again at the configured start (e.g. TRIM_HORIZON)')
    .requiredOption('-c, --config <file>', 'YAML configuration file')
    .option('--shard <id>', 'only this shard (default: every shard of the stream)')
    .option('--stream <name>', 'another stream than the configured one')
    .option('--force', 'even while workers hold leases')
    .action(async (o: { config: string; shard?: string; stream?: string; force?: boolean }) => {
      const config = loadConfig(o.config);
      const stream = streamOf(config, o.stream)!;
      await refuseWhileLeased(config, stream, o.shard, o.force);
      const { store, close } = await openCheckpointStore(config);
      try {
        const list = (await store.list(sourceOf(config), stream)).filter((c) => !o.shard || c.shard === o.shard);
        for (const c of list) await store.delete(c.source, c.stream, c.shard);
        process.stdout.write(`deleted ${list.length} checkpoint${list.length === 1 ? '' : 's'} of ${stream}\n`);
      } finally {
        await close();
      }
    });
}

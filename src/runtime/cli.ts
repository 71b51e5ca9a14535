import { Command, CommanderError } from 'commander';
import { stringify } from 'yaml';
import { ConfigError, loadConfig, maskSecrets } from '../config/load.js';
import { errorMessage, IntegratorError } from '../core/errors.js';
import { registerCheckpointCommands } from './cli-checkpoints.js';
import { registerReplayCommand } from './cli-replay.js';
import { runService } from './service.js';

/** Exit codes: 0 done, 1 a runtime failure, 2 bad configuration or usage. */
export const EXIT = { ok: 0, failure: 1, config: 2 } as const;

export function buildCli(): Command {
  const program = new Command()
    .name('inventory-integrator')
    .description('Streams inventory changes (DynamoDB Streams, Kinesis, Kafka, files) into a Parquet lake on S3, enriched from RDS, catalogued in Glue.')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('run')
    .description('run the pipeline as a long-running service (until the source ends or SIGTERM)')
    .requiredOption('-c, --config <file>', 'YAML configuration file')
    .option('-p, --port <port>', 'HTTP port for /healthz, /readyz, /metrics (overrides service.port)', (v) => parsePort(v))
    .action(async (opts: { config: string; port?: number }) => {
      const config = loadConfig(opts.config);
      const code = await runService(config, { port: opts.port });
      process.exitCode = code;
    });

  const cfg = program.command('config').description('inspect configuration');
  cfg
    .command('check')
    .description('validate a configuration file and print it resolved, secrets masked')
    .requiredOption('-c, --config <file>', 'YAML configuration file')
    .action((opts: { config: string }) => {
      const config = loadConfig(opts.config);
      process.stdout.write(`# ${opts.config}: valid\n${stringify(maskSecrets(config))}`);
    });

  registerReplayCommand(program);
  registerCheckpointCommands(program);
  return program;
}

function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new IntegratorError('CONFIG_INVALID', `--port "${v}" is not a port number (0-65535)`);
  return n;
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    await buildCli().parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.config;
    if (err instanceof ConfigError || (err instanceof IntegratorError && err.code === 'CONFIG_INVALID')) {
      process.stderr.write(`inventory-integrator: ${err.message}\n`);
      return EXIT.config;
    }
    process.stderr.write(`inventory-integrator: ${errorMessage(err)}\n`);
    return EXIT.failure;
  }
}

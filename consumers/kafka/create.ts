import { Kafka, type logCreator, logLevel, type SASLOptions } from 'kafkajs';
import { IntegratorError } from '../../src/core/errors.js';
import type { Logger } from '../../src/core/logger.js';
import type { Metrics } from '../../src/core/metrics.js';
import type { KafkaSaslConfig, KafkaSourceConfig } from './config.js';
import { KafkaSource } from './source.js';

export interface CreateKafkaSourceDeps {
  readonly log: Logger;
  readonly metrics: Metrics;
  /** Where `sasl.passwordEnv` is looked up; process.env by default. */
  readonly env?: NodeJS.ProcessEnv;
}

/** Composition root for the Kafka source: a kafkajs client from the config, logging through ours. */
export function createKafkaSource(config: KafkaSourceConfig, deps: CreateKafkaSourceDeps): KafkaSource {
  const kafka = new Kafka({
    clientId: config.clientId,
    brokers: config.brokers,
    ssl: config.ssl,
    ...(config.sasl ? { sasl: saslOptions(config.sasl, deps.env ?? process.env) } : {}),
    connectionTimeout: config.connectionTimeoutMs,
    logLevel: logLevel.WARN,
    logCreator: kafkaLogCreator(deps.log.child({ component: 'kafkajs' })),
  });
  return new KafkaSource(config, { kafka, log: deps.log, metrics: deps.metrics });
}

function saslOptions(sasl: KafkaSaslConfig, env: NodeJS.ProcessEnv): SASLOptions {
  const password = sasl.password ?? env[sasl.passwordEnv!];
  if (password === undefined || password === '') {
    throw new IntegratorError('CONFIG_INVALID', `source.sasl.passwordEnv names ${sasl.passwordEnv}, which is not set in the environment`);
  }
  return { mechanism: sasl.mechanism, username: sasl.username, password } as SASLOptions;
}

/**
 * kafkajs logs a rebalance as an ERROR ("The group is rebalancing, re-joining") although it is
 * routine; such entries are lowered to info so alerts on error logs stay meaningful.
 */
export function kafkaLogCreator(log: Logger): logCreator {
  return () =>
    ({ level, log: entry }) => {
      const { message, timestamp: _t, logger: _l, ...rest } = entry;
      const routine = /rebalancing|re-joining|not aware of this member/i.test(message);
      if (level === logLevel.ERROR && !routine) log.error(rest, `kafkajs: ${message}`);
      else if (level === logLevel.ERROR || level === logLevel.WARN) log.warn(rest, `kafkajs: ${message}`);
      else if (level === logLevel.INFO) log.info(rest, `kafkajs: ${message}`);
      else log.debug(rest, `kafkajs: ${message}`);
    };
}

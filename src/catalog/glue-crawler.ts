import { CreateCrawlerCommand, GetCrawlerCommand, StartCrawlerCommand, UpdateCrawlerCommand } from '@aws-sdk/client-glue';
import type { Logger } from '../core/logger.js';
import type { GlueCrawlerConfig } from './config.js';
import type { GlueCaller } from './glue-call.js';
import { hasName } from './glue-errors.js';

const RECRAWL = 'CRAWL_NEW_FOLDERS_ONLY';

export interface CrawlerTarget {
  readonly database: string;
  /** s3://bucket/prefix/table/ */
  readonly location: string;
}

/**
 * Crawler mode: new partitions ask for a crawl; requests within `debounceMs` of each other become
 * one StartCrawler, and only one start is ever in flight (single flight). CrawlerRunningException
 * means a crawl is already under way: not a failure, but that crawl may have listed the folders
 * before ours landed, so one more start is attempted after the next debounce period.
 */
export class GlueCrawlerTrigger {
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private wanted = false;
  private prepared = false;
  private closed = false;
  /** Starts that succeeded, for tests and the demo summary. */
  started = 0;

  constructor(
    private readonly cfg: GlueCrawlerConfig,
    private readonly target: CrawlerTarget,
    private readonly caller: GlueCaller,
    private readonly log: Logger,
  ) {}

  /** Asks for a crawl; returns at once. */
  request(): void {
    if (this.closed) return;
    this.wanted = true;
    this.schedule();
  }

  /** Resolves when no crawl start is scheduled or running (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight || this.timer) {
      if (this.inFlight) await this.inFlight;
      else await new Promise((r) => setTimeout(r, Math.min(50, this.cfg.debounceMs + 1)));
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      // A crawl asked for and not started yet would be forgotten: start it now instead.
      if (this.wanted) await this.fire();
    }
    await this.inFlight;
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.fire();
    }, this.cfg.debounceMs);
  }

  private fire(): Promise<void> {
    if (this.inFlight) return this.inFlight; // single flight: the pending `wanted` is served after
    this.inFlight = this.startOnce().finally(() => {
      this.inFlight = undefined;
      if (this.wanted && !this.closed) this.schedule();
    });
    return this.inFlight;
  }

  private async startOnce(): Promise<void> {
    this.wanted = false;
    try {
      await this.prepare();
      await this.caller.call('StartCrawler', (g) => g.send(new StartCrawlerCommand({ Name: this.cfg.name })));
      this.started++;
      this.log.info({ crawler: this.cfg.name }, 'started glue crawler');
    } catch (err) {
      if (hasName(err, 'CrawlerRunningException')) {
        this.log.info({ crawler: this.cfg.name }, 'glue crawler already running; will start it again after it finishes');
        this.wanted = true;
        return;
      }
      this.wanted = true; // keep the request: the next commit or the debounce timer tries again
      this.caller.failed('StartCrawler', err, { crawler: this.cfg.name });
    }
  }

  /** Once: makes sure the crawler exists and crawls new folders only. */
  private async prepare(): Promise<void> {
    if (this.prepared) return;
    const name = this.cfg.name;
    let crawler;
    try {
      crawler = (await this.caller.call('GetCrawler', (g) => g.send(new GetCrawlerCommand({ Name: name })))).Crawler;
    } catch (err) {
      if (!hasName(err, 'EntityNotFoundException') || !this.cfg.role) throw err;
    }
    const policies = {
      RecrawlPolicy: { RecrawlBehavior: RECRAWL },
      // Incremental crawls force LOG for both; saying so avoids a validation error.
      SchemaChangePolicy: { UpdateBehavior: 'LOG', DeleteBehavior: 'LOG' },
    } as const;
    if (!crawler) {
      await this.caller.call('CreateCrawler', (g) =>
        g.send(
          new CreateCrawlerCommand({
            Name: name,
            Role: this.cfg.role,
            DatabaseName: this.target.database,
            Targets: { S3Targets: [{ Path: this.target.location }] },
            ...policies,
          }),
        ),
      );
      this.log.info({ crawler: name, target: this.target.location }, 'created glue crawler (new folders only)');
    } else if (crawler.RecrawlPolicy?.RecrawlBehavior !== RECRAWL) {
      await this.caller.call('UpdateCrawler', (g) => g.send(new UpdateCrawlerCommand({ Name: name, ...policies })));
      this.log.warn({ crawler: name, was: crawler.RecrawlPolicy?.RecrawlBehavior }, 'set glue crawler recrawl policy to CRAWL_NEW_FOLDERS_ONLY');
    }
    this.prepared = true;
  }
}

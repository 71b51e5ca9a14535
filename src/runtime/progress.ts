import { SingleBar, Presets } from 'cli-progress';
import type { Logger } from '../core/logger.js';

export interface ProgressUpdate {
  readonly records: number;
  /** 0..1 when the end is known (time or line range), else undefined. */
  readonly fraction?: number;
}

export interface Progress {
  update(p: ProgressUpdate): void;
  stop(): void;
}

const fmtRate = (r: number) => (r >= 1000 ? `${(r / 1000).toFixed(1)}k` : r.toFixed(0));

/**
 * A bar with rate and ETA on a terminal; elsewhere (CI, containers, pipes) a log line every
 * few seconds, since a redrawn bar is noise in a log file.
 */
export function createProgress(opts: { log: Logger; tty?: boolean; stream?: NodeJS.WriteStream; intervalMs?: number; label: string }): Progress {
  const started = Date.now();
  let last: ProgressUpdate = { records: 0 };
  const rate = () => last.records / Math.max(0.001, (Date.now() - started) / 1000);
  const eta = () => (last.fraction && last.fraction > 0 ? ((Date.now() - started) / 1000) * ((1 - last.fraction) / last.fraction) : undefined);
  const tty = opts.tty ?? Boolean((opts.stream ?? process.stderr).isTTY);

  if (tty) {
    const bar = new SingleBar(
      { format: `${opts.label} [{bar}] {percentage}% | {records} records | {rate}/s | ETA {eta_formatted}`, stream: opts.stream ?? process.stderr, etaBuffer: 50, hideCursor: true },
      Presets.shades_classic,
    );
    bar.start(1000, 0, { records: 0, rate: '0' });
    return {
      update(p) {
        last = p;
        bar.update(Math.round((p.fraction ?? 0) * 1000), { records: p.records, rate: fmtRate(rate()) });
      },
      stop() {
        bar.stop();
      },
    };
  }

  const timer = setInterval(() => {
    const e = eta();
    opts.log.info(
      { records: last.records, ratePerSec: Math.round(rate()), percent: last.fraction === undefined ? undefined : Math.round(last.fraction * 1000) / 10, etaSec: e === undefined ? undefined : Math.round(e) },
      `${opts.label}: ${last.records} records, ${fmtRate(rate())}/s${e === undefined ? '' : `, ETA ${Math.round(e)} s`}`,
    );
  }, opts.intervalMs ?? 5000);
  timer.unref();
  return {
    update(p) {
      last = p;
    },
    stop() {
      clearInterval(timer);
    },
  };
}

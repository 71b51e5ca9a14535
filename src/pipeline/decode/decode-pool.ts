import { Worker } from 'node:worker_threads';
import type { Envelope } from '../../core/envelope.js';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { type Normalized, type NormalizeOptions, normalize, toChange } from '../normalize.js';
import { DECODED, type DecodeReply, type DecodeRequest, FAILED, decodeRequest, fieldsAt, packRequest } from './decode-batch.js';

/**
 * A worker keeps nothing between requests, so a small young generation is enough; left to the
 * process-wide default it grew to tens of MB per worker.
 */
const WORKER_OPTIONS = { resourceLimits: { maxYoungGenerationSizeMb: Number(process.env.WYG ?? 8) } };

/** Polls smaller than this are decoded inline: a round trip to a worker would cost more. */
export const MIN_POOLED_RECORDS = 256;

interface Pending {
  readonly resolve: (r: DecodeReply) => void;
  readonly reject: (e: unknown) => void;
}

interface DecodeThread {
  readonly worker: Worker;
  readonly pending: Map<number, Pending>;
}

/**
 * Decodes JSON payloads (parse, validate, event id) on worker threads, so the main thread keeps
 * only routing, batching and encoding: JSON.parse alone was a quarter of its time. Results come
 * back column by column and become the same changes and dead letters `normalize` makes inline.
 *
 * Workers start on the first poll big enough to be worth it. If a worker cannot start (a
 * single-file bundle without the worker script) or dies, its polls are decoded inline and the
 * pool stops using workers: slower, never lossy.
 */
export class DecodePool {
  private threads: DecodeThread[] = [];
  private started = false;
  private broken = false;
  private nextId = 0;
  private turn = 0;

  constructor(
    private readonly size: number,
    private readonly log: Logger,
  ) {}

  /** How many polls may usefully be in decode at once. */
  get concurrency(): number {
    return this.size > 0 ? this.size * 2 : 1;
  }

  /** `normalize` for every envelope of a poll, in order. */
  async normalizeAll(envs: readonly Envelope[], opts: NormalizeOptions): Promise<Normalized[]> {
    const pooled: Envelope[] = [];
    for (const e of envs) if (e.payload.kind === 'bytes' && e.size <= opts.maxRecordBytes) pooled.push(e);
    if (this.size === 0 || this.broken || pooled.length < MIN_POOLED_RECORDS) return envs.map((e) => normalize(e, opts));
    const { request, transfer } = packRequest(pooled);
    let reply: DecodeReply;
    try {
      reply = await this.send(request, transfer);
    } catch (err) {
      this.disable(err);
      // The request's bytes went to the worker with it: decode again from the envelopes.
      return envs.map((e) => normalize(e, opts));
    }
    return this.assemble(envs, pooled, reply, opts);
  }

  async close(): Promise<void> {
    const threads = this.threads;
    this.threads = [];
    this.broken = true;
    await Promise.all(threads.map((t) => t.worker.terminate()));
  }

  private assemble(envs: readonly Envelope[], pooled: readonly Envelope[], reply: DecodeReply, opts: NormalizeOptions): Normalized[] {
    const out: Normalized[] = [];
    let p = 0;
    let decoded = 0;
    let failed = 0;
    for (const env of envs) {
      if (pooled[p] !== env) {
        out.push(normalize(env, opts));
        continue;
      }
      const status = reply.status[p++];
      if (status === DECODED) {
        const k = decoded++;
        out.push({ ok: true, change: toChange(env, fieldsAt(reply, k), reply.eventIds[k]!) });
      } else if (status === FAILED) {
        const f = reply.failures[failed++]!;
        out.push({ ok: false, letter: { position: env.position, code: f.code, reason: f.reason, payload: env.payload, receivedAt: env.receivedAt } });
      } else out.push(normalize(env, opts));
    }
    return out;
  }

  private send(request: DecodeRequest, transfer: ArrayBuffer[]): Promise<DecodeReply> {
    if (!this.started) this.start();
    const thread = this.threads[this.turn++ % this.threads.length];
    if (!thread) return Promise.resolve(decodeRequest(request));
    const id = this.nextId++;
    return new Promise<DecodeReply>((resolve, reject) => {
      // Referenced only while it owes a reply: an idle pool never keeps the process alive.
      if (thread.pending.size === 0) thread.worker.ref();
      thread.pending.set(id, { resolve, reject });
      thread.worker.postMessage({ id, request }, transfer);
    });
  }

  private start(): void {
    this.started = true;
    const here = import.meta.url;
    for (let i = 0; i < this.size; i++) {
      const worker = here.endsWith('.ts') ? typeScriptWorker(new URL('./decode-worker.ts', here)) : new Worker(new URL('./decode-worker.js', here), WORKER_OPTIONS);
      const thread: DecodeThread = { worker, pending: new Map() };
      worker.unref();
      worker.on('message', (m: { id: number; reply: DecodeReply }) => {
        const p = thread.pending.get(m.id);
        thread.pending.delete(m.id);
        if (thread.pending.size === 0) worker.unref();
        p?.resolve(m.reply);
      });
      const fail = (err: unknown) => {
        for (const p of thread.pending.values()) p.reject(err);
        thread.pending.clear();
        this.disable(err);
      };
      worker.on('error', fail);
      worker.on('exit', (code) => fail(new Error(`decode worker exited with code ${code}`)));
      this.threads.push(thread);
    }
  }

  private disable(err: unknown): void {
    if (this.broken) return;
    this.broken = true;
    this.log.warn({ err: errorMessage(err) }, 'decode workers unavailable; decoding on the main thread from now on');
    void this.close();
  }
}

/**
 * Run from sources (tsx, vitest), the worker is TypeScript: it registers tsx's loader in its own
 * thread first, as loader hooks are per thread.
 */
function typeScriptWorker(url: URL): Worker {
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(boot, { ...WORKER_OPTIONS, eval: true });
}

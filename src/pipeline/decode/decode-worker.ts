import { parentPort } from 'node:worker_threads';
import { type DecodeRequest, decodeRequest } from './decode-batch.js';

/** Decode worker: one request in, one reply out, in the order received. */
parentPort?.on('message', (msg: { id: number; request: DecodeRequest }) => {
  const reply = decodeRequest(msg.request);
  parentPort!.postMessage({ id: msg.id, reply }, [reply.status.buffer as ArrayBuffer, reply.numbers.buffer as ArrayBuffer]);
});

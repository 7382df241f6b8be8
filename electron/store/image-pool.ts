/**
 * A small pool of image worker threads (one per core). Tasks queue FIFO; each worker runs a few at once so disk
 * reads overlap decoding, as long as their memory fits in the decode budget (shared/decode-budget.ts). Idle workers are unref'd so an idle pool never keeps the process alive.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import 'sharp'; // load sharp's native module in the main thread before any worker does (sharp's advice)
import { decodeBudget } from '../shared/decode-budget.js';
import { startSiblingWorker } from '../shared/worker-url.js';
import type { ImageReply, ImageResult, ImageTask } from './image-messages.js';

interface Pending {
  resolve(result: ImageResult): void;
  reject(error: Error): void;
  worker: PoolWorker;
}

interface PoolWorker {
  worker: Worker;
  inFlight: number;
}

const TASKS_PER_WORKER = 2;

export class ImagePool {
  private readonly workers: PoolWorker[] = [];
  private readonly queue: { task: ImageTask; resolve(r: ImageResult): void; reject(e: Error): void }[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  constructor(readonly size = Math.max(1, availableParallelism())) {}

  /**
   * Runs one task in a worker. `memory` is what the task will hold while it runs (decodeCost for a thumbnail, the
   * file's size for a probe): the task waits for that much room in this thread's decode budget before it is sent,
   * so the pool's memory stays bounded whatever the images' sizes.
   */
  async run(task: ImageTask, memory = 0): Promise<ImageResult> {
    if (this.closed) throw new Error('image pool is closed');
    const release = await decodeBudget().acquire(memory);
    try {
      return await new Promise<ImageResult>((resolve, reject) => {
        if (this.closed) throw new Error('image pool is closed');
        this.queue.push({ task, resolve, reject });
        this.dispatch();
      });
    } finally {
      release();
    }
  }

  /** Tasks queued or running. */
  get busy(): number {
    return this.queue.length + this.pending.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const item of this.queue.splice(0)) item.reject(new Error('image pool closed'));
    await Promise.all(this.workers.splice(0).map((w) => w.worker.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const worker = this.pickWorker();
      if (!worker) return;
      const item = this.queue.shift()!;
      const id = this.nextId++;
      this.pending.set(id, { resolve: item.resolve, reject: item.reject, worker });
      worker.inFlight++;
      worker.worker.ref();
      worker.worker.postMessage({ ...item.task, id });
    }
  }

  private pickWorker(): PoolWorker | undefined {
    let best: PoolWorker | undefined;
    for (const w of this.workers) if (!best || w.inFlight < best.inFlight) best = w;
    if ((!best || best.inFlight > 0) && this.workers.length < this.size) return this.spawn();
    return best && best.inFlight < TASKS_PER_WORKER ? best : undefined;
  }

  private spawn(): PoolWorker {
    const entry: PoolWorker = { worker: startSiblingWorker(import.meta.url, 'image-worker'), inFlight: 0 };
    entry.worker.on('message', (reply: ImageReply) => {
      const pending = this.pending.get(reply.id);
      if (!pending) return;
      this.pending.delete(reply.id);
      entry.inFlight--;
      if (entry.inFlight === 0) entry.worker.unref();
      const { id: _id, ...result } = reply;
      pending.resolve(result as ImageResult);
      this.dispatch();
    });
    const fail = (error: Error) => {
      const index = this.workers.indexOf(entry);
      if (index >= 0) this.workers.splice(index, 1);
      for (const [id, pending] of this.pending)
        if (pending.worker === entry) {
          this.pending.delete(id);
          pending.reject(error);
        }
      if (!this.closed) this.dispatch();
    };
    entry.worker.on('error', fail);
    entry.worker.on('exit', (code) => fail(new Error(`image worker stopped (exit code ${code})`)));
    this.workers.push(entry);
    return entry;
  }
}

let shared: ImagePool | undefined;

/** The process-wide pool used for on-demand thumbnails. */
export function sharedImagePool(): ImagePool {
  if (!shared) shared = new ImagePool();
  return shared;
}

export async function closeSharedImagePool(): Promise<void> {
  const pool = shared;
  shared = undefined;
  await pool?.close();
}

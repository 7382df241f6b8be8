/**
 * Long work as jobs: each has an id (the caller's or a fresh one), an AbortController that `jobs.cancel` trips,
 * and reports `job.started` / `job.progress` / `job.finished` events.
 */
import { randomUUID } from 'node:crypto';
import type { JobKind, RunningJob, SortaEvent } from '../contract/index.js';
import { CancelledError, serializeError, SortaError } from '../shared/errors.js';

export interface JobProgress {
  done: number;
  total: number | null;
  unit?: 'images' | 'files' | 'bytes' | 'epochs';
  message?: string | null;
}

export interface JobHandle {
  readonly jobId: string;
  readonly signal: AbortSignal;
  progress(update: JobProgress): void;
  emit(event: SortaEvent): void;
}

interface Running {
  info: RunningJob;
  controller: AbortController;
}

/** How often progress events may go out per job (the UI cannot show more). */
const PROGRESS_INTERVAL_MS = 100;

export class JobRunner {
  private readonly running = new Map<string, Running>();
  private readonly settling = new Set<Promise<unknown>>();

  constructor(private readonly emit: (event: SortaEvent) => void) {}

  list(): RunningJob[] {
    return [...this.running.values()].map((job) => ({ ...job.info }));
  }

  cancel(jobId: string): boolean {
    const job = this.running.get(jobId);
    if (!job) return false;
    job.controller.abort(new CancelledError(`${job.info.title} was cancelled.`));
    return true;
  }

  cancelAll(): void {
    for (const jobId of this.running.keys()) this.cancel(jobId);
  }

  /** Cancels every job and waits (up to `timeoutMs`) until they have all stopped touching the project. */
  async cancelAndWait(timeoutMs = 10_000): Promise<void> {
    this.cancelAll();
    if (this.settling.size === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.allSettled([...this.settling]),
      new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
  }

  async run<T>(
    kind: JobKind,
    title: string,
    requestedId: string | undefined,
    work: (job: JobHandle) => Promise<T>,
  ): Promise<T> {
    const jobId = requestedId ?? randomUUID();
    if (this.running.has(jobId))
      throw new SortaError('conflict', `A job with id ${jobId} is already running.`);
    const controller = new AbortController();
    const startedAt = Date.now();
    const info: RunningJob = { jobId, kind, title, startedAt, done: 0, total: null };
    this.running.set(jobId, { info, controller });
    this.emit({ type: 'job.started', jobId, kind, title });
    let lastSent = 0;
    const handle: JobHandle = {
      jobId,
      signal: controller.signal,
      emit: this.emit,
      progress: (update) => {
        info.done = update.done;
        info.total = update.total;
        const now = Date.now();
        const finished = update.total !== null && update.done >= update.total;
        if (!finished && now - lastSent < PROGRESS_INTERVAL_MS) return;
        lastSent = now;
        const elapsed = now - startedAt;
        const etaMs =
          update.total && update.done > 0 && update.done < update.total
            ? Math.round((elapsed / update.done) * (update.total - update.done))
            : null;
        this.emit({
          type: 'job.progress',
          jobId,
          kind,
          done: update.done,
          total: update.total,
          unit: update.unit ?? 'images',
          etaMs,
          message: update.message ?? null,
        });
      },
    };
    const working = work(handle);
    this.settling.add(working);
    void working.then(
      () => this.settling.delete(working),
      () => this.settling.delete(working),
    );
    try {
      const result = await working;
      if (controller.signal.aborted) throw controller.signal.reason;
      this.emit({ type: 'job.finished', jobId, kind, state: 'done', error: null });
      return result;
    } catch (error) {
      const cancelled =
        controller.signal.aborted || (error instanceof SortaError && error.code === 'cancelled');
      const failure = cancelled && !(error instanceof SortaError) ? new CancelledError() : error;
      this.emit({
        type: 'job.finished',
        jobId,
        kind,
        state: cancelled ? 'cancelled' : 'failed',
        error: serializeError(failure),
      });
      throw failure;
    } finally {
      this.running.delete(jobId);
    }
  }
}

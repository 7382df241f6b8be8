/**
 * Long work as jobs: each has an id (the caller's or a fresh one), an AbortController that `jobs.cancel` trips,
 * and reports `job.started` / `job.progress` / `job.finished` events. The runner also remembers what a page needs
 * to reattach after a reload (the latest progress, the training curves so far, the job's input) and the jobs that
 * ended, until a page has shown their notice.
 */
import { randomUUID } from 'node:crypto';
import type { FinishedJob, JobKind, RunningJob, SortaEvent } from '../contract/index.js';
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

export interface JobOptions {
  /** What the job was started with (shown again by a page that reattaches). */
  input?: Record<string, unknown>;
  /**
   * At most one running job per key: a second one is refused with a `conflict` naming the running one (one
   * fine-tune of the project at a time, one sort touching files, one download per architecture).
   */
  exclusive?: string;
  /** The message of that refusal; default: "<title of the running job> is already running." */
  conflictMessage?: (running: RunningJob) => string;
}

interface Running {
  info: RunningJob;
  controller: AbortController;
  exclusive: string | undefined;
}

/** How often progress events may go out per job (the UI cannot show more). */
const PROGRESS_INTERVAL_MS = 100;
/** Finished jobs kept for pages that load later. */
const FINISHED_KEPT = 50;

export class JobRunner {
  private readonly running = new Map<string, Running>();
  private readonly settling = new Set<Promise<unknown>>();
  private finished: FinishedJob[] = [];

  constructor(private readonly emit: (event: SortaEvent) => void) {}

  list(): RunningJob[] {
    return [...this.running.values()].map((job) => ({ ...job.info, epochs: [...job.info.epochs] }));
  }

  /** Jobs that ended, newest first; `unacknowledged`: only those whose notice no page has shown. */
  recent(unacknowledged = false): FinishedJob[] {
    return this.finished.filter((job) => !unacknowledged || !job.acknowledged).map((job) => ({ ...job }));
  }

  acknowledge(jobIds: readonly string[]): void {
    const ids = new Set(jobIds);
    for (const job of this.finished) if (ids.has(job.jobId)) job.acknowledged = true;
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
    options: JobOptions = {},
  ): Promise<T> {
    const jobId = requestedId ?? randomUUID();
    this.refuseConflicts(jobId, options);
    const controller = new AbortController();
    const info: RunningJob = {
      jobId,
      kind,
      title,
      startedAt: Date.now(),
      done: 0,
      total: null,
      unit: 'images',
      etaMs: null,
      message: null,
      input: options.input ?? {},
      phase: null,
      epochs: [],
    };
    this.running.set(jobId, { info, controller, exclusive: options.exclusive });
    this.emit({ type: 'job.started', jobId, kind, title });
    const working = work(this.handle(info, controller.signal));
    this.settling.add(working);
    void working.then(
      () => this.settling.delete(working),
      () => this.settling.delete(working),
    );
    try {
      const result = await working;
      if (controller.signal.aborted) throw controller.signal.reason;
      this.finish(info, 'done', null, result);
      return result;
    } catch (error) {
      const cancelled =
        controller.signal.aborted || (error instanceof SortaError && error.code === 'cancelled');
      const failure = cancelled && !(error instanceof SortaError) ? new CancelledError() : error;
      this.finish(info, cancelled ? 'cancelled' : 'failed', failure, null);
      throw failure;
    } finally {
      this.running.delete(jobId);
    }
  }

  private refuseConflicts(jobId: string, options: JobOptions): void {
    if (this.running.has(jobId))
      throw new SortaError('conflict', `A job with id ${jobId} is already running.`);
    if (options.exclusive === undefined) return;
    for (const other of this.running.values())
      if (other.exclusive === options.exclusive)
        throw new SortaError(
          'conflict',
          options.conflictMessage?.(other.info) ??
            `${other.info.title} is already running: wait for it to end or cancel it first.`,
        );
  }

  private handle(info: RunningJob, signal: AbortSignal): JobHandle {
    let lastSent = 0;
    // The ETA is measured within one phase (features counted in images, then epochs): a new unit or total
    // starts a new baseline, so the time spent extracting features does not inflate the epochs' estimate.
    let phase = { key: '', startedAt: info.startedAt, startDone: 0 };
    return {
      jobId: info.jobId,
      signal,
      emit: (event) => {
        if (event.type === 'train.phase') info.phase = event;
        if (event.type === 'train.epoch') info.epochs.push(event);
        this.emit(event);
      },
      progress: (update) => {
        const now = Date.now();
        const key = `${update.unit ?? 'images'}/${update.total}`;
        if (key !== phase.key)
          phase =
            phase.key === ''
              ? { key, startedAt: info.startedAt, startDone: 0 }
              : { key, startedAt: now, startDone: update.done };
        info.done = update.done;
        info.total = update.total;
        info.unit = update.unit ?? 'images';
        info.message = update.message ?? null;
        info.etaMs = estimateRemaining(now - phase.startedAt, update.done - phase.startDone, update);
        const finished = update.total !== null && update.done >= update.total;
        if (!finished && now - lastSent < PROGRESS_INTERVAL_MS) return;
        lastSent = now;
        this.emit({
          type: 'job.progress',
          jobId: info.jobId,
          kind: info.kind,
          done: info.done,
          total: info.total,
          unit: info.unit,
          etaMs: info.etaMs,
          message: info.message,
        });
      },
    };
  }

  private finish(info: RunningJob, state: FinishedJob['state'], failure: unknown, result: unknown): void {
    const error = failure === null ? null : serializeError(failure);
    const record: FinishedJob = {
      jobId: info.jobId,
      kind: info.kind,
      title: info.title,
      startedAt: info.startedAt,
      finishedAt: Date.now(),
      state,
      error,
      result: result ?? null,
      input: info.input,
      acknowledged: false,
    };
    this.finished = [record, ...this.finished].slice(0, FINISHED_KEPT);
    this.emit({
      type: 'job.finished',
      jobId: info.jobId,
      kind: info.kind,
      state,
      error,
      title: info.title,
      result: record.result,
    });
  }
}

/** Time left at the pace of this phase so far; null while it cannot be told (no total, nothing done yet). */
export function estimateRemaining(
  elapsedMs: number,
  doneInPhase: number,
  update: JobProgress,
): number | null {
  if (!update.total || doneInPhase <= 0 || update.done >= update.total) return null;
  return Math.round((elapsedMs / doneInPhase) * (update.total - update.done));
}

/**
 * Running jobs as the `job.*` events describe them: the status bar and every progress bar read from here. It
 * also settles each job's end exactly once, whichever comes first: the call's own reply (the page that started
 * it), the `job.finished` event (any open page), or `jobs.recent` (a page that loaded after the job ended).
 */
import { SvelteMap } from 'svelte/reactivity';
import type {
  FinishedJob,
  JobKind,
  RunningJob,
  SerializedError,
  SortaEvent,
} from '../../../electron/contract/index.js';

export interface JobView {
  jobId: string;
  kind: JobKind;
  title: string;
  done: number;
  total: number | null;
  unit: string;
  etaMs: number | null;
  message: string | null;
}

/** How a job ended, from whichever source told first. */
export interface JobOutcome {
  jobId: string;
  kind: JobKind;
  title: string;
  state: 'done' | 'failed' | 'cancelled';
  error: SerializedError | null;
  /** The method's result when it succeeded. */
  result: unknown;
}

export type JobEndHandler = (outcome: JobOutcome) => void | Promise<void>;

export class Jobs {
  readonly running = new SvelteMap<string, JobView>();
  // Bookkeeping, not shown: plain collections on purpose.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  readonly #settled = new Set<string>();
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  readonly #routes = new Map<JobKind, JobEndHandler>();
  #fallback: JobEndHandler = () => {};
  #acknowledge: (jobId: string) => void = () => {};
  #offline: () => boolean = () => false;

  /** Who shows the end of each kind of job (its notice, and what the screen does next). */
  route(kinds: readonly JobKind[], handler: JobEndHandler): void {
    for (const kind of kinds) this.#routes.set(kind, handler);
  }

  /**
   * `fallback` shows the end of jobs nobody routed; `acknowledge` tells the core a notice was shown; `offline`
   * says the core cannot be reached (a call that failed for that did not end its job).
   */
  configure(options: {
    fallback: JobEndHandler;
    acknowledge: (jobId: string) => void;
    offline: () => boolean;
  }): void {
    this.#fallback = options.fallback;
    this.#acknowledge = options.acknowledge;
    this.#offline = options.offline;
  }

  /**
   * A job ended: the first report of it goes to its handler and is acknowledged, repeats are dropped. A call
   * that failed because the server went away is no end: the job may still run, and the page asks again once
   * it is back.
   */
  async report(outcome: JobOutcome): Promise<void> {
    if (outcome.error?.code === 'io' && this.#offline()) return;
    if (!this.settle(outcome)) return;
    this.#acknowledge(outcome.jobId);
    await (this.#routes.get(outcome.kind) ?? this.#fallback)(outcome);
  }

  /** Applies one `job.*` event (others are ignored). */
  handle(event: SortaEvent): void {
    switch (event.type) {
      case 'job.started':
        if (this.#settled.has(event.jobId)) break;
        this.running.set(event.jobId, {
          jobId: event.jobId,
          kind: event.kind,
          title: event.title,
          done: 0,
          total: null,
          unit: '',
          etaMs: null,
          message: null,
        });
        break;
      case 'job.progress': {
        if (this.#settled.has(event.jobId)) break;
        const known = this.running.get(event.jobId);
        this.running.set(event.jobId, {
          jobId: event.jobId,
          kind: event.kind,
          title: known?.title ?? event.kind,
          done: event.done,
          total: event.total,
          unit: event.unit,
          etaMs: event.etaMs,
          message: event.message,
        });
        break;
      }
      case 'job.finished':
        this.running.delete(event.jobId);
        break;
    }
  }

  get(jobId: string | null): JobView | undefined {
    return jobId ? this.running.get(jobId) : undefined;
  }

  ofKind(kind: JobKind): JobView | undefined {
    for (const job of this.running.values()) if (job.kind === kind) return job;
    return undefined;
  }

  /**
   * Replaces the list with the server's view (on start-up and after reconnecting); returns the jobs that are
   * still running as far as this page knows (not those whose end already arrived meanwhile).
   */
  reset(jobs: readonly RunningJob[]): RunningJob[] {
    this.running.clear();
    const live = jobs.filter((job) => !this.#settled.has(job.jobId));
    for (const job of live)
      this.running.set(job.jobId, {
        jobId: job.jobId,
        kind: job.kind,
        title: job.title,
        done: job.done,
        total: job.total,
        unit: job.unit ?? '',
        etaMs: job.etaMs ?? null,
        message: job.message ?? null,
      });
    return live;
  }

  /** True the first time a job's end is reported: the caller then shows its notice; every later report is a repeat. */
  settle(outcome: JobOutcome): boolean {
    if (this.#settled.has(outcome.jobId)) return false;
    this.#settled.add(outcome.jobId);
    this.running.delete(outcome.jobId);
    return true;
  }

  isSettled(jobId: string): boolean {
    return this.#settled.has(jobId);
  }
}

/** The outcome of a call that ran as a job: its reply, or its rejection (`cancelled` is not a failure). */
export async function outcomeOf(
  job: { jobId: string; kind: JobKind; title: string },
  call: Promise<unknown>,
): Promise<JobOutcome> {
  try {
    return { ...job, state: 'done', error: null, result: await call };
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string };
    const serialized = {
      code: (code ?? 'internal') as SerializedError['code'],
      message: message ?? String(error),
    };
    return { ...job, state: code === 'cancelled' ? 'cancelled' : 'failed', error: serialized, result: null };
  }
}

export function outcomeFromEvent(event: Extract<SortaEvent, { type: 'job.finished' }>): JobOutcome {
  return {
    jobId: event.jobId,
    kind: event.kind,
    title: event.title ?? event.kind,
    state: event.state,
    error: event.error,
    result: event.result ?? null,
  };
}

export function outcomeFromRecord(job: FinishedJob): JobOutcome {
  return {
    jobId: job.jobId,
    kind: job.kind,
    title: job.title,
    state: job.state,
    error: job.error,
    result: job.result,
  };
}

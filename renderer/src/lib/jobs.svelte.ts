/** Running jobs as the `job.*` events describe them: the status bar and every progress bar read from here. */
import { SvelteMap } from 'svelte/reactivity';
import type { JobKind, SortaEvent } from '../../../electron/contract/index.js';

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

export class Jobs {
  readonly running = new SvelteMap<string, JobView>();

  /** Applies one `job.*` event (others are ignored). */
  handle(event: SortaEvent): void {
    switch (event.type) {
      case 'job.started':
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

  /** Replaces the list with the server's view (on start-up and after reconnecting). */
  reset(jobs: { jobId: string; kind: JobKind; title: string; done: number; total: number | null }[]): void {
    this.running.clear();
    for (const job of jobs) this.running.set(job.jobId, { ...job, unit: '', etaMs: null, message: null });
  }
}

/**
 * The project's past classify, sort and undo jobs (`jobs.history`, kept in the project so they survive a restart):
 * when, which folder, how many files went where, copy or move, undone or not.
 */
import type { JobRecord } from '../../../electron/contract/index.js';
import type { SortaClient } from './api';
import { plural } from './format';
import type { Notifier } from './notifier.svelte';

export class SortHistory {
  items = $state<JobRecord[]>([]);
  loaded = $state(false);

  constructor(
    private readonly api: SortaClient,
    private readonly notifier: Notifier,
  ) {}

  async load(): Promise<void> {
    try {
      this.items = await this.api.invoke('jobs.history', {});
      this.loaded = true;
    } catch (error) {
      this.notifier.error('Could not load the sort history', error);
    }
  }

  get(id: number): JobRecord | undefined {
    return this.items.find((job) => job.id === id);
  }

  clear(): void {
    this.items = [];
    this.loaded = false;
  }
}

/** "12 files: bag 5, sneaker 4, _unsure 3" — where a sort's files are now. */
export function describePlaced(job: JobRecord): string {
  const entries = Object.entries(job.placed).sort(([a], [b]) => a.localeCompare(b));
  const total = entries.reduce((sum, [, n]) => sum + n, 0);
  if (entries.length === 0)
    return job.undoneFiles > 0 ? `${plural(job.undoneFiles, 'file')} put back` : 'no files';
  return `${plural(total, 'file')}: ${entries.map(([folder, n]) => `${folder} ${n}`).join(', ')}`;
}

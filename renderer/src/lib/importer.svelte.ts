/** Importing a folder into the open project: one job at a time, with progress, cancel and a summary. */
import type { ImportResult } from '../../../electron/contract/index.js';
import { newJobId, type SortaClient } from './api';
import type { Jobs } from './jobs.svelte';
import type { Notifier } from './notifier.svelte';

export class Importer {
  path = $state('');
  folderLabels = $state(true);
  jobId = $state<string | null>(null);
  last = $state<ImportResult | null>(null);

  get progress() {
    return this.jobs.get(this.jobId);
  }
  get running(): boolean {
    return this.jobId !== null;
  }

  constructor(
    private readonly api: SortaClient,
    private readonly jobs: Jobs,
    private readonly notifier: Notifier,
    private readonly onImported: () => Promise<void>,
  ) {}

  async run(path = this.path): Promise<boolean> {
    const dir = path.trim();
    if (!dir || this.jobId) return false;
    this.jobId = newJobId('import');
    try {
      this.last = await this.api.invoke('import.folder', {
        path: dir,
        folderLabels: this.folderLabels,
        jobId: this.jobId,
      });
      const { imported, labeled, errors } = this.last;
      this.notifier.success(
        `Imported ${imported} images`,
        `${labeled} labelled from folder names${errors.length ? `, ${errors.length} could not be read` : ''}.`,
      );
      await this.onImported();
      return true;
    } catch (error) {
      this.notifier.error(`Could not import ${dir}`, error);
      return false;
    } finally {
      this.jobId = null;
    }
  }

  async cancel(): Promise<void> {
    if (this.jobId) await this.api.invoke('jobs.cancel', { jobId: this.jobId });
  }
}

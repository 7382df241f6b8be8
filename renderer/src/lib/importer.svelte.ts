/**
 * Importing a folder into the open project: one job at a time, with progress, cancel and a summary. An import
 * running when the page loads is reattached; its end shows a notice in every open page.
 */
import type { ImportResult, RunningJob } from '../../../electron/contract/index.js';
import { newJobId, type SortaClient } from './api';
import { plural } from './format';
import { outcomeOf, type JobOutcome, type Jobs } from './jobs.svelte';
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
  ) {
    jobs.route(['import'], (outcome) => this.ended(outcome));
  }

  attach(job: RunningJob): void {
    if (job.kind !== 'import') return;
    this.jobId = job.jobId;
    if (typeof job.input.path === 'string') this.path = job.input.path;
  }

  /** Imports `path`; true when it worked. */
  async run(path = this.path): Promise<boolean> {
    const dir = path.trim();
    if (!dir || this.jobId) return false;
    const jobId = newJobId('import');
    this.jobId = jobId;
    const call = this.api.invoke('import.folder', { path: dir, folderLabels: this.folderLabels, jobId });
    const outcome = await outcomeOf({ jobId, kind: 'import', title: `Importing ${dir}` }, call);
    await this.jobs.report(outcome);
    return outcome.state === 'done';
  }

  async ended(outcome: JobOutcome): Promise<void> {
    if (outcome.jobId === this.jobId) this.jobId = null;
    const dir = outcome.title.replace(/^Importing /, '');
    if (outcome.state === 'cancelled') this.notifier.info(`Import of ${dir} cancelled`);
    else if (outcome.state === 'failed') this.notifier.error(`Could not import ${dir}`, outcome.error);
    else {
      this.last = outcome.result as ImportResult;
      const { imported, labeled, errors } = this.last;
      this.notifier.success(
        `Imported ${plural(imported, 'image')}`,
        `${labeled} labelled from folder names${errors.length ? `, ${errors.length} could not be read` : ''}.`,
      );
    }
    await this.onImported().catch((error) => this.notifier.error('Could not reload the project', error));
  }

  async cancel(): Promise<void> {
    if (this.jobId) await this.api.invoke('jobs.cancel', { jobId: this.jobId });
  }
}

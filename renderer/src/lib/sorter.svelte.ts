/**
 * Classify & sort: classify a directory with a model, browse the predictions (by path or least confident first),
 * preview the sort plan for a threshold, run it as copy or move, undo it (or any earlier sort from the history),
 * export the predictions as CSV. A job running when the page loads is reattached; a job's end shows its notice
 * whichever page started it.
 */
import type {
  ClassifyResult,
  Prediction,
  RunningJob,
  SortMode,
  SortPlan,
  SortResult,
  UndoResult,
} from '../../../electron/contract/index.js';
import { newJobId, type SortaClient } from './api';
import { plural } from './format';
import { SortHistory } from './history.svelte';
import { outcomeOf, type JobOutcome, type Jobs } from './jobs.svelte';
import { describeError, type Notifier } from './notifier.svelte';
import { SortPaths } from './sort-paths';

const RESULTS_PAGE = 120;

export class Sorter {
  dir = $state('');
  modelId = $state<number | null>(null);
  review = $state(false);
  jobId = $state<string | null>(null);
  result = $state<ClassifyResult | null>(null);
  /** The folder the shown results came from. */
  resultDir = $state('');
  predictions = $state<Prediction[]>([]);
  predictionTotal = $state(0);
  order = $state<'path' | 'confidence-asc'>('path');
  threshold = $state(0.5);
  outDir = $state('');
  mode = $state<SortMode>('copy');
  plan = $state<SortPlan | null>(null);
  sorted = $state<SortResult | null>(null);
  csvPath = $state('');
  /** Why the plan cannot be made for the destination as typed (shown under the field, not as a toast). */
  planError = $state<string | null>(null);
  readonly history: SortHistory;
  readonly #paths = new SortPaths();

  constructor(
    private readonly api: SortaClient,
    private readonly jobs: Jobs,
    private readonly notifier: Notifier,
  ) {
    this.history = new SortHistory(api, notifier);
    jobs.route(['classify', 'sort', 'undo'], (outcome) => this.ended(outcome));
  }

  get job() {
    return this.jobs.get(this.jobId);
  }

  /** Shows a classify, sort or undo job that was running when the page loaded, with its progress and Cancel. */
  attach(job: RunningJob): void {
    if (job.kind !== 'classify' && job.kind !== 'sort' && job.kind !== 'undo') return;
    this.jobId = job.jobId;
    const input = job.input;
    if (job.kind === 'classify' && typeof input.dir === 'string') this.dir = input.dir;
    if (job.kind === 'sort') {
      if (typeof input.outDir === 'string') this.outDir = input.outDir;
      if (input.mode === 'copy' || input.mode === 'move') this.mode = input.mode;
      if (typeof input.threshold === 'number') this.threshold = input.threshold;
      if (typeof input.job === 'number') void this.open(input.job);
    }
  }

  async classify(): Promise<void> {
    const dir = this.dir.trim();
    if (!dir || this.jobId) return;
    const jobId = newJobId('classify');
    this.jobId = jobId;
    const call = this.api.invoke('classify.run', {
      dir,
      modelId: this.modelId ?? undefined,
      review: this.review,
      jobId,
    });
    await this.jobs.report(await outcomeOf({ jobId, kind: 'classify', title: `Classifying ${dir}` }, call));
  }

  async cancel(): Promise<void> {
    if (this.jobId) await this.api.invoke('jobs.cancel', { jobId: this.jobId });
  }

  /** The end of a classify, sort or undo job (this page's or another's): its notice, then what it changed. */
  async ended(outcome: JobOutcome): Promise<void> {
    const mine = outcome.jobId === this.jobId;
    if (mine) this.jobId = null;
    if (outcome.state === 'cancelled') this.notifier.info(`${outcome.title}: cancelled`);
    else if (outcome.state === 'failed') this.notifier.error(`${outcome.title} failed`, outcome.error);
    else if (outcome.kind === 'classify')
      await this.#classified(outcome.result as ClassifyResult, outcome.title, mine);
    else if (outcome.kind === 'sort') this.#sortDone(outcome.result as SortResult, mine);
    else await this.#undone(outcome.result as UndoResult);
    await this.history.load();
  }

  async #classified(result: ClassifyResult, title: string, mine: boolean): Promise<void> {
    const dir = title.replace(/^Classifying /, '');
    if (result.count === 0) {
      this.notifier.info(`No images found in ${dir}`, 'Nothing was classified, so there is nothing to sort.');
      if (mine) await this.#show(null, dir);
      return;
    }
    const errors = result.errors.length;
    this.notifier.success(
      `Classified ${plural(result.count, 'file')}`,
      errors ? `${errors} could not be read.` : '',
    );
    if (mine || !this.result) await this.#show(result, dir);
  }

  #sortDone(result: SortResult, mine: boolean): void {
    const total = Object.values(result.sorted).reduce((sum, n) => sum + n, 0);
    const verb = mine ? (this.mode === 'move' ? 'Moved' : 'Copied') : 'Sorted';
    const where = this.history.get(result.job)?.outDir ?? (mine ? this.outDir : '');
    this.notifier.success(`${verb} ${plural(total, 'file')}${where ? ` into ${where}` : ''}`);
    if (!mine) return;
    this.sorted = result;
    this.plan = null; // it described the files before they were sorted
  }

  async #undone(result: UndoResult): Promise<void> {
    this.notifier.success(`Undone: ${plural(result.restored, 'file')} back where they were`);
    if (this.sorted?.job === result.job) this.sorted = null;
    await this.refreshPlan();
  }

  /** Shows the results of a classify job and points the destination and CSV paths at its folder. */
  async #show(result: ClassifyResult | null, dir: string): Promise<void> {
    this.result = result;
    this.resultDir = dir;
    this.plan = null;
    this.planError = null;
    this.sorted = null;
    this.predictions = [];
    this.predictionTotal = 0;
    if (!result) return;
    const paths = this.#paths.follow(dir, { outDir: this.outDir, csvPath: this.csvPath });
    this.outDir = paths.outDir;
    this.csvPath = paths.csvPath;
    await this.loadPredictions();
    await this.refreshPlan();
  }

  /** Opens an earlier classify job from the history (its results, ready to sort again). */
  async open(classifyJobId: number): Promise<void> {
    if (!this.history.loaded) await this.history.load();
    const record = this.history.get(classifyJobId);
    if (!record || record.kind !== 'classify') return;
    const result = { job: record.id, modelId: record.modelId ?? 0, count: record.files, errors: [] };
    await this.#show(result, record.sourceDir ?? '');
  }

  async loadPredictions(more = false): Promise<void> {
    if (!this.result) return;
    try {
      const page = await this.api.invoke('classify.results', {
        job: this.result.job,
        offset: more ? this.predictions.length : 0,
        limit: RESULTS_PAGE,
        order: this.order,
      });
      this.predictionTotal = page.total;
      this.predictions = more ? [...this.predictions, ...page.items] : page.items;
    } catch (error) {
      this.notifier.error('Could not load the predictions', error);
    }
  }

  /** Shows the least confident predictions first: the ones worth a human look. */
  async reviewLeastConfident(): Promise<void> {
    this.order = this.order === 'confidence-asc' ? 'path' : 'confidence-asc';
    await this.loadPredictions();
  }

  #options() {
    if (!this.result || !this.outDir.trim()) return null;
    return { job: this.result.job, outDir: this.outDir.trim(), threshold: this.threshold, mode: this.mode };
  }

  async refreshPlan(): Promise<void> {
    const options = this.#options();
    if (!options) {
      this.planError = null;
      return;
    }
    try {
      this.plan = await this.api.invoke('sort.plan', options);
      this.planError = null;
    } catch (error) {
      this.plan = null;
      this.planError = describeError(error).message;
    }
  }

  async sort(): Promise<void> {
    const options = this.#options();
    if (!options || this.jobId || !this.plan?.total) return;
    const jobId = newJobId('sort');
    this.jobId = jobId;
    const call = this.api.invoke('sort.run', { ...options, jobId });
    await this.jobs.report(
      await outcomeOf({ jobId, kind: 'sort', title: `Sorting into ${options.outDir}` }, call),
    );
  }

  /** Undoes the sort just made, or the given sort job from the history. */
  async undo(job = this.sorted?.job): Promise<void> {
    if (job === undefined || this.jobId) return;
    const jobId = newJobId('undo');
    this.jobId = jobId;
    const call = this.api.invoke('sort.undo', { job, jobId });
    await this.jobs.report(await outcomeOf({ jobId, kind: 'undo', title: 'Undoing the sort' }, call));
  }

  async exportCsv(): Promise<void> {
    if (!this.result || !this.csvPath.trim()) return;
    try {
      const { path } = await this.api.invoke('classify.export', {
        job: this.result.job,
        path: this.csvPath.trim(),
        format: 'csv',
      });
      this.notifier.success('Predictions exported', path);
    } catch (error) {
      this.notifier.error('Could not export the CSV', error);
    }
  }

  reset(): void {
    this.result = null;
    this.predictions = [];
    this.plan = null;
    this.sorted = null;
    this.history.clear();
  }
}

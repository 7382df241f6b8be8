/**
 * Classify & sort: classify a directory with a model, browse the predictions (by path or least confident first),
 * preview the sort plan for a threshold, run it as copy or move, undo it, export the predictions as CSV.
 */
import type {
  ClassifyResult,
  Prediction,
  SortMode,
  SortPlan,
  SortResult,
} from '../../../electron/contract/index.js';
import { newJobId, type SortaClient } from './api';
import type { Jobs } from './jobs.svelte';
import type { Notifier } from './notifier.svelte';

const RESULTS_PAGE = 120;

export class Sorter {
  dir = $state('');
  modelId = $state<number | null>(null);
  review = $state(false);
  jobId = $state<string | null>(null);
  result = $state<ClassifyResult | null>(null);
  predictions = $state<Prediction[]>([]);
  predictionTotal = $state(0);
  order = $state<'path' | 'confidence-asc'>('path');
  threshold = $state(0.5);
  outDir = $state('');
  mode = $state<SortMode>('copy');
  plan = $state<SortPlan | null>(null);
  sorted = $state<SortResult | null>(null);
  csvPath = $state('');
  busy = $state(false);

  constructor(
    private readonly api: SortaClient,
    private readonly jobs: Jobs,
    private readonly notifier: Notifier,
  ) {}

  get job() {
    return this.jobs.get(this.jobId);
  }

  async classify(): Promise<void> {
    const dir = this.dir.trim();
    if (!dir || this.jobId) return;
    this.jobId = newJobId('classify');
    this.plan = null;
    this.sorted = null;
    try {
      this.result = await this.api.invoke('classify.run', {
        dir,
        modelId: this.modelId ?? undefined,
        review: this.review,
        jobId: this.jobId,
      });
      if (!this.outDir) this.outDir = `${dir.replace(/[\\/]+$/, '')}-sorted`;
      if (!this.csvPath) this.csvPath = `${this.outDir}-predictions.csv`;
      const errors = this.result.errors.length;
      this.notifier.success(
        `Classified ${this.result.count} files`,
        errors ? `${errors} could not be read.` : '',
      );
      await this.loadPredictions();
      await this.refreshPlan();
    } catch (error) {
      this.notifier.error(`Could not classify ${dir}`, error);
    } finally {
      this.jobId = null;
    }
  }

  async cancel(): Promise<void> {
    if (this.jobId) await this.api.invoke('jobs.cancel', { jobId: this.jobId });
  }

  async loadPredictions(more = false): Promise<void> {
    if (!this.result) return;
    const page = await this.api.invoke('classify.results', {
      job: this.result.job,
      offset: more ? this.predictions.length : 0,
      limit: RESULTS_PAGE,
      order: this.order,
    });
    this.predictionTotal = page.total;
    this.predictions = more ? [...this.predictions, ...page.items] : page.items;
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
    if (!options) return;
    try {
      this.plan = await this.api.invoke('sort.plan', options);
    } catch (error) {
      this.plan = null;
      this.notifier.error('Could not plan the sort', error);
    }
  }

  async sort(): Promise<void> {
    const options = this.#options();
    if (!options || this.jobId) return;
    this.jobId = newJobId('sort');
    try {
      this.sorted = await this.api.invoke('sort.run', { ...options, jobId: this.jobId });
      this.plan = null; // it described the files before they were sorted
      const total = Object.values(this.sorted.sorted).reduce((sum, n) => sum + n, 0);
      this.notifier.success(
        `${options.mode === 'move' ? 'Moved' : 'Copied'} ${total} files into ${options.outDir}`,
      );
    } catch (error) {
      this.notifier.error('Sorting failed', error);
    } finally {
      this.jobId = null;
    }
  }

  async undo(): Promise<void> {
    if (!this.sorted || this.jobId) return;
    this.jobId = newJobId('undo');
    try {
      const undone = await this.api.invoke('sort.undo', { job: this.sorted.job, jobId: this.jobId });
      this.notifier.success(`Undone: ${undone.restored} files back where they were`);
      this.sorted = null;
      await this.refreshPlan();
    } catch (error) {
      this.notifier.error('Undo failed', error);
    } finally {
      this.jobId = null;
    }
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
  }
}

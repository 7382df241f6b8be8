/**
 * The Train screen's state: defaults and the advanced options, the weights for the chosen architecture, the live
 * run (phase, per-epoch metrics) and the project's models.
 */
import type {
  ModelDetail,
  ModelSummary,
  RunningJob,
  SortaEvent,
  TrainParams,
  TrainResult,
  WeightsStatus,
} from '../../../electron/contract/index.js';
import { newJobId, type SortaClient } from './api';
import { outcomeOf, type JobOutcome, type Jobs } from './jobs.svelte';
import type { Notifier } from './notifier.svelte';

export type EpochEvent = Extract<SortaEvent, { type: 'train.epoch' }>;
export type PhaseEvent = Extract<SortaEvent, { type: 'train.phase' }>;

export class Trainer {
  params = $state<TrainParams | null>(null);
  advancedOpen = $state(false);
  weights = $state<WeightsStatus[]>([]);
  weightsPath = $state('');
  /** Another address to download from (a mirror); empty: the default source. */
  weightsUrl = $state('');
  weightsJobId = $state<string | null>(null);
  jobId = $state<string | null>(null);
  phase = $state<PhaseEvent | null>(null);
  epochs = $state<EpochEvent[]>([]);
  models = $state<ModelSummary[]>([]);
  selected = $state<ModelDetail | null>(null);

  constructor(
    private readonly api: SortaClient,
    private readonly jobs: Jobs,
    private readonly notifier: Notifier,
  ) {
    jobs.route(['train', 'weights'], (outcome) => this.ended(outcome));
  }

  get currentWeights(): WeightsStatus | undefined {
    return this.weights.find((w) => w.arch === this.params?.arch);
  }
  get running(): boolean {
    return this.jobId !== null;
  }
  get job() {
    return this.jobs.get(this.jobId);
  }
  get download() {
    return this.jobs.get(this.weightsJobId);
  }

  handle(event: SortaEvent): void {
    // A fine-tune another page started: show it here too (one runs per project at a time).
    if (event.type === 'job.started' && event.kind === 'train' && !this.jobId) {
      this.jobId = event.jobId;
      this.phase = null;
      this.epochs = [];
    }
    if (event.type === 'train.phase' && event.jobId === this.jobId) this.phase = event;
    if (event.type === 'train.epoch' && event.jobId === this.jobId) this.epochs = [...this.epochs, event];
  }

  /** Loads defaults, weights and models independently, so one failing does not hide the others. */
  async load(): Promise<void> {
    const [params, weights, models] = await Promise.allSettled([
      this.params ? Promise.resolve(this.params) : this.api.invoke('train.options', {}),
      this.api.invoke('weights.status', {}),
      this.loadModels(),
    ]);
    if (params.status === 'fulfilled') this.params = params.value;
    if (weights.status === 'fulfilled') this.weights = weights.value;
    const failed = [params, weights, models].find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Asks the core again for the defaults that fit the current labels and weights. */
  async resetDefaults(): Promise<void> {
    try {
      this.params = await this.api.invoke('train.defaults', {});
    } catch (error) {
      this.notifier.error('Could not load the defaults', error);
    }
  }

  async loadModels(): Promise<void> {
    this.models = await this.api.invoke('models.list', {});
    if (!this.selected && this.models[0]) await this.select(this.models[0].id);
  }

  /** Shows a job that was running when the page loaded: its progress and curves so far, and Cancel. */
  attach(job: RunningJob): void {
    if (job.kind === 'weights') this.weightsJobId = job.jobId;
    if (job.kind !== 'train') return;
    this.jobId = job.jobId;
    this.phase = job.phase;
    this.epochs = [...job.epochs];
  }

  async start(): Promise<void> {
    if (!this.params || this.jobId) return;
    const jobId = newJobId('train');
    this.jobId = jobId;
    this.phase = null;
    this.epochs = [];
    const call = this.api.invoke('train.start', { params: $state.snapshot(this.params), jobId });
    await this.jobs.report(await outcomeOf({ jobId, kind: 'train', title: 'Fine-tuning' }, call));
  }

  /** The end of a fine-tune or a weights job (this page's or not): its notice, then the new model or weights. */
  async ended(outcome: JobOutcome): Promise<void> {
    if (outcome.kind === 'weights') return this.#weightsEnded(outcome);
    if (outcome.jobId === this.jobId) this.jobId = null;
    if (outcome.state === 'done') {
      const result = outcome.result as TrainResult;
      this.notifier.success(
        'Fine-tuning finished',
        `${result.epochs} epochs, validation accuracy ${formatAccuracy(result.metrics.valAccuracy)}.`,
      );
      await this.select(result.modelId);
      await this.loadModels().catch((error) => this.notifier.error('Could not load the models', error));
    } else if (outcome.state === 'cancelled') this.notifier.info('Fine-tuning cancelled');
    else this.notifier.error('Fine-tuning failed', outcome.error);
  }

  async #weightsEnded(outcome: JobOutcome): Promise<void> {
    if (outcome.jobId === this.weightsJobId) this.weightsJobId = null;
    const result = outcome.result as WeightsStatus | null;
    if (outcome.state === 'done')
      this.notifier.success(`${result?.arch ?? 'The'} weights are installed and verified`);
    else if (outcome.state === 'cancelled') this.notifier.info('Weights download cancelled');
    else this.notifier.error(`${outcome.title} failed`, outcome.error);
    try {
      this.weights = await this.api.invoke('weights.status', {});
    } catch (error) {
      this.notifier.error('Could not list the weights', error);
    }
  }

  /** Keeps the Advanced options for this project (the core remembers them per project). */
  async rememberOptions(): Promise<void> {
    if (!this.params) return;
    await this.api.invoke('train.rememberOptions', { params: $state.snapshot(this.params) }).catch(() => {});
  }

  async cancel(): Promise<void> {
    if (this.jobId) await this.api.invoke('jobs.cancel', { jobId: this.jobId });
  }

  async select(id: number): Promise<void> {
    try {
      this.selected = await this.api.invoke('models.get', { id });
    } catch (error) {
      this.notifier.error(`Could not load model ${id}`, error);
    }
  }

  async downloadWeights(): Promise<void> {
    const arch = this.params?.arch;
    if (!arch || this.weightsJobId) return;
    const jobId = newJobId('weights');
    this.weightsJobId = jobId;
    const url = this.weightsUrl.trim() || undefined;
    const call = this.api.invoke('weights.download', { arch, url, jobId });
    const title = `Downloading ${arch} weights`;
    await this.jobs.report(await outcomeOf({ jobId, kind: 'weights', title }, call));
  }

  async importWeights(path = this.weightsPath): Promise<void> {
    const arch = this.params?.arch;
    if (!arch || !path.trim() || this.weightsJobId) return;
    const jobId = newJobId('weights');
    this.weightsJobId = jobId;
    const call = this.api.invoke('weights.import', { path: path.trim(), arch, jobId });
    const title = `Checking ${path.trim()}`;
    await this.jobs.report(await outcomeOf({ jobId, kind: 'weights', title }, call));
  }

  async cancelDownload(): Promise<void> {
    if (this.weightsJobId) await this.api.invoke('jobs.cancel', { jobId: this.weightsJobId });
  }

  /** Image ids of one confusion-matrix cell of the selected model. */
  async confusionImages(actual: number, predicted: number): Promise<number[]> {
    if (!this.selected) return [];
    return this.api.invoke('models.confusionImages', { id: this.selected.id, actual, predicted });
  }

  reset(): void {
    this.params = null;
    this.weights = [];
    this.models = [];
    this.selected = null;
    this.epochs = [];
    this.phase = null;
  }
}

function formatAccuracy(value: number | null): string {
  return value === null ? 'n/a' : `${(value * 100).toFixed(1)}%`;
}

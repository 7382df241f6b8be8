import type { JobKind, SerializedError } from './common.js';
import type { ProjectInfo } from './project.js';

/** What the UI reloads when `data.changed` arrives. */
export type DataTopic = 'images' | 'labels' | 'classes' | 'models' | 'jobs' | 'weights';

/** Commands from the native menu (Electron) that the renderer carries out. */
export type MenuCommand =
  | 'project.new'
  | 'project.open'
  | 'project.close'
  | 'import.folder'
  | 'labels.undo'
  | 'labels.redo'
  | 'view.label'
  | 'view.train'
  | 'view.sort';

/** Every event the core sends to the UI: one tagged union, in both shells. */
export type SortaEvent =
  | { type: 'job.started'; jobId: string; kind: JobKind; title: string }
  | {
      type: 'job.progress';
      jobId: string;
      kind: JobKind;
      done: number;
      /** null while the total is unknown (still scanning). */
      total: number | null;
      unit: 'images' | 'files' | 'bytes' | 'epochs';
      /** Estimated milliseconds left, when it can be estimated. */
      etaMs: number | null;
      message: string | null;
    }
  | {
      type: 'job.finished';
      jobId: string;
      kind: JobKind;
      state: 'done' | 'failed' | 'cancelled';
      error: SerializedError | null;
      /** The job's title as `job.started` gave it (a page that missed that event still names the job). */
      title?: string;
      /** The method's result when the job succeeded (what the call resolves with), else null. */
      result?: unknown;
    }
  | {
      type: 'train.phase';
      jobId: string;
      phase: 'weights' | 'features' | 'training';
      done: number;
      total: number;
    }
  | {
      type: 'train.epoch';
      jobId: string;
      epoch: number;
      epochs: number;
      trainLoss: number;
      trainAccuracy: number;
      valLoss: number | null;
      valAccuracy: number | null;
      etaMs: number | null;
    }
  | { type: 'project.changed'; project: ProjectInfo | null }
  | { type: 'data.changed'; topics: DataTopic[] }
  | { type: 'menu.command'; command: MenuCommand };

export type SortaEventType = SortaEvent['type'];
export type EventOf<T extends SortaEventType> = Extract<SortaEvent, { type: T }>;

export const eventTypes = [
  'job.started',
  'job.progress',
  'job.finished',
  'train.phase',
  'train.epoch',
  'project.changed',
  'data.changed',
  'menu.command',
] as const satisfies readonly SortaEventType[];

/** Compile-time proof that `eventTypes` lists every event. */
const _everyEventListed: [Exclude<SortaEventType, (typeof eventTypes)[number]>] extends [never]
  ? true
  : false = true;
void _everyEventListed;

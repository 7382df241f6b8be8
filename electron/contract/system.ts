import { z } from 'zod';
import { jobIdInput, method, noInput, pathString, type JobKind, type SerializedError } from './common.js';
import type { EventOf } from './events.js';

export interface SystemInfo {
  version: string;
  /** Which shell serves the UI: dialogs exist only in 'electron'. */
  mode: 'electron' | 'web';
  platform: string;
  /** Home folder of the user running the core (a starting point for `fs.list`). */
  home: string;
  compute: { backend: string | null; gpu: boolean; detail: string | null };
}

export interface RunningJob {
  jobId: string;
  kind: JobKind;
  title: string;
  startedAt: number;
  done: number;
  total: number | null;
  /** The latest progress, as the last `job.progress` event said it (a page that reattaches starts from here). */
  unit: 'images' | 'files' | 'bytes' | 'epochs';
  etaMs: number | null;
  message: string | null;
  /** What the job was started with (the method's validated input without its jobId), to refill the form. */
  input: Record<string, unknown>;
  /** Fine-tuning: the latest `train.phase` and every `train.epoch` so far (the curves), in order. */
  phase: EventOf<'train.phase'> | null;
  epochs: EventOf<'train.epoch'>[];
}

/**
 * A job that ended in this server's lifetime (newest first, a few dozen kept). `acknowledged` turns true once a
 * page has shown its notice (`jobs.acknowledge`), so the next page load reports only what nobody has seen.
 */
export interface FinishedJob {
  jobId: string;
  kind: JobKind;
  title: string;
  startedAt: number;
  finishedAt: number;
  state: 'done' | 'failed' | 'cancelled';
  error: SerializedError | null;
  /** The method's result when it succeeded (`TrainResult`, `ClassifyResult`, `SortResult`, …), else null. */
  result: unknown;
  input: Record<string, unknown>;
  acknowledged: boolean;
}

export interface DirListing {
  path: string;
  parent: string | null;
  /** Folders, `.sorta` projects and image files, folders first, by name. Hidden entries are left out. */
  entries: { name: string; path: string; kind: 'dir' | 'project' | 'image' }[];
}

const fileFilters = z
  .array(z.strictObject({ name: z.string().max(100), extensions: z.array(z.string().max(20)).max(20) }))
  .max(10);

/** The result of a native dialog: null when the user cancelled. */
export interface DialogResult {
  path: string | null;
}

export const systemMethods = {
  'system.info': method<SystemInfo>()(noInput),
  /** The jobs running now, with their progress so far: a page that loads reattaches to each. */
  'jobs.running': method<RunningJob[]>()(noInput),
  /** Jobs that ended since the server started, newest first (`unacknowledged`: only those no page has shown). */
  'jobs.recent': method<FinishedJob[]>()(z.strictObject({ unacknowledged: z.boolean().optional() })),
  /** Marks finished jobs as shown to the user. */
  'jobs.acknowledge': method<null>()(z.strictObject({ jobIds: z.array(jobIdInput).max(200) })),
  /** Asks a running job to stop; false when no such job runs. */
  'jobs.cancel': method<{ cancelled: boolean }>()(z.strictObject({ jobId: jobIdInput })),
  /** A folder listing for choosing paths where there are no native dialogs (web mode). */
  'fs.list': method<DirListing>()(z.strictObject({ path: pathString.optional() })),
};

export const dialogMethods = {
  'dialog.openFolder': method<DialogResult>()(
    z.strictObject({ title: z.string().max(200).optional(), defaultPath: pathString.optional() }),
    { electronOnly: true },
  ),
  'dialog.openFile': method<DialogResult>()(
    z.strictObject({
      title: z.string().max(200).optional(),
      defaultPath: pathString.optional(),
      filters: fileFilters.optional(),
    }),
    { electronOnly: true },
  ),
  'dialog.saveFile': method<DialogResult>()(
    z.strictObject({
      title: z.string().max(200).optional(),
      defaultPath: pathString.optional(),
      filters: fileFilters.optional(),
    }),
    { electronOnly: true },
  ),
  /** Shows a file or folder in the system's file manager. */
  'shell.showItem': method<null>()(z.strictObject({ path: pathString }), { electronOnly: true }),
};

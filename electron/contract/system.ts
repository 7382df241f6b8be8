import { z } from 'zod';
import { jobIdInput, method, noInput, pathString, type JobKind } from './common.js';

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
  'jobs.running': method<RunningJob[]>()(noInput),
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

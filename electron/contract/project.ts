import { z } from 'zod';
import { method, noInput, pathString } from './common.js';

export interface ProjectInfo {
  /** Absolute path of the `.sorta` file. */
  path: string;
  /** File name without `.sorta`. */
  name: string;
  cacheDir: string;
  imageCount: number;
  labelledCount: number;
  errorCount: number;
  classCount: number;
  modelCount: number;
}

export interface RecentProject {
  path: string;
  name: string;
  /** Milliseconds since the epoch. */
  openedAt: number;
  /** False when the file is gone (moved, deleted, unmounted drive). */
  exists: boolean;
}

export const projectMethods = {
  /** The open project, or null when none is open (the Start screen). */
  'project.current': method<ProjectInfo | null>()(noInput),
  /** Opens a project, creating the file when `create` is true (the default) and it does not exist. */
  'project.open': method<ProjectInfo>()(z.strictObject({ path: pathString, create: z.boolean().optional() })),
  'project.close': method<null>()(noInput),
  'project.recent': method<RecentProject[]>()(noInput),
  'project.forgetRecent': method<RecentProject[]>()(z.strictObject({ path: pathString })),
};

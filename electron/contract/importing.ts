import { z } from 'zod';
import { jobIdInput, method, pathString } from './common.js';

export interface ImportResult {
  /** New images. */
  imported: number;
  /** Images given a class by this import (folder names). */
  labeled: number;
  /** All class names after the import. */
  classes: string[];
  /** Files that could not be used, relative to the imported folder, with the reason. */
  errors: { file: string; error: string }[];
}

export const importMethods = {
  /**
   * Imports (or rescans) a folder recursively. First-level subfolder names become classes unless `folderLabels`
   * is false. Reports `job.progress` (kind 'import'); thumbnails follow as a 'thumbnails' job.
   */
  'import.folder': method<ImportResult>()(
    z.strictObject({ path: pathString, folderLabels: z.boolean().optional(), jobId: jobIdInput.optional() }),
  ),
};

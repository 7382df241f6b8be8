/** Steps of an import kept apart from its main flow (electron/store/import.ts). */
import { realpath, stat } from 'node:fs/promises';
import { SortaError, describeFsError } from '../shared/errors.js';
import type { Project } from './project.js';

/** Resolves the folder to import (its real path) and records it as a root; refuses what is not a folder. */
export async function registerRoot(
  project: Project,
  dir: string,
  folderLabels: boolean,
): Promise<{ root: string; rootId: number }> {
  let root: string;
  try {
    root = await realpath(dir);
    if (!(await stat(root)).isDirectory()) throw Object.assign(new Error(), { code: 'ENOTDIR' });
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new SortaError(
      code === 'ENOENT' ? 'not-found' : 'invalid-input',
      `Cannot import ${dir}: ${code === 'ENOTDIR' ? 'it is not a folder' : describeFsError(error)}.`,
    );
  }
  project
    .statement(
      `INSERT INTO roots (path, folder_labels, added_at) VALUES (?, ?, ?)
       ON CONFLICT(path) DO UPDATE SET folder_labels = excluded.folder_labels`,
    )
    .run(root, folderLabels ? 1 : 0, Date.now());
  const rootId = (project.statement('SELECT id FROM roots WHERE path = ?').get(root) as { id: number }).id;
  return { root, rootId };
}

/** Marks the known images of this folder that the scan did not see as missing; returns how many. */
export function markMissing(project: Project, rootId: number, seenIds: ReadonlySet<number>): number {
  const stamp = Date.now();
  const knownIds = project
    .statement("SELECT id FROM images WHERE root_id = ? AND status != 'missing'")
    .all(rootId) as { id: number }[];
  const mark = project.statement("UPDATE images SET status = 'missing', checked_at = ? WHERE id = ?");
  let missing = 0;
  project.db.transaction(() => {
    for (const { id } of knownIds)
      if (!seenIds.has(id)) {
        mark.run(stamp, id);
        missing++;
      }
  })();
  return missing;
}

export function usableImageIds(project: Project, rootId: number): number[] {
  return project
    .statement("SELECT id FROM images WHERE root_id = ? AND status = 'ok'")
    .pluck()
    .all(rootId) as number[];
}

/**
 * Test hook: with SORTA_TEST_IMPORT_HOLD=thumbnails an import stops once its images are saved, says so on stderr
 * and waits until it is cancelled or killed, so a test can interrupt it exactly there whatever the machine's speed.
 */
export async function holdForTest(phase: string, signal: AbortSignal | undefined): Promise<void> {
  if (process.env.SORTA_TEST_IMPORT_HOLD !== phase) return;
  process.stderr.write(`import held before ${phase} (SORTA_TEST_IMPORT_HOLD)\n`);
  await new Promise<void>((resolve) => {
    const keepAlive = setInterval(() => {}, 60_000);
    const done = () => {
      clearInterval(keepAlive);
      resolve();
    };
    if (signal?.aborted) done();
    else signal?.addEventListener('abort', done, { once: true });
  });
}

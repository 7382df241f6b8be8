/**
 * Labels from folder names. An image under a first-level folder is registered with its folder label pending
 * (images.folder_label_pending); every import with folder labels applies the pending ones and clears the mark in the
 * same transaction. So an import stopped after its images were saved (killed, cancelled, a full cache disk) is made
 * whole by the next run, and a label a person removes or changes once it was applied is never put back.
 */
import { ensureClass } from './classes.js';
import type { Project } from './project.js';

interface PendingRow {
  id: number;
  path: string;
  root_id: number | null;
}

/**
 * Applies the folder labels owed to the usable images of this scan: `folders` maps each scanned real path to its
 * first-level folder (null directly in the imported folder). An image that a person labelled meanwhile keeps that
 * label. Returns how many labels were added.
 */
export function applyFolderLabels(
  project: Project,
  rootId: number,
  folders: ReadonlyMap<string, string | null>,
): number {
  const hasLabel = project.statement('SELECT 1 FROM labels WHERE image_id = ?');
  const settle = project.statement('UPDATE images SET folder_label_pending = 0 WHERE id = ?');
  const insertLabel = project.statement(
    `INSERT INTO labels (image_id, class_id, source, updated_at, path) VALUES (?, ?, 'human', ?, ?)`,
  );
  return project.db.transaction(() => {
    const pending = project
      .statement("SELECT id, path, root_id FROM images WHERE folder_label_pending = 1 AND status = 'ok'")
      .all() as PendingRow[];
    const toLabel: { row: PendingRow; folder: string }[] = [];
    for (const row of pending) {
      const folder = folders.get(row.path);
      if (folder === undefined) continue; // not seen by this scan: another folder's import owes it
      if (folder === null) {
        // Directly in the folder: no class to give (only images migrated from older projects get here).
        if (row.root_id === rootId) settle.run(row.id);
      } else if (hasLabel.get(row.id))
        settle.run(row.id); // a person labelled it first
      else toLabel.push({ row, folder });
    }
    // New classes are made in folder-name order, whatever order the workers finished in.
    const classIds = new Map<string, number>();
    for (const folder of [...new Set(toLabel.map((t) => t.folder))].sort())
      classIds.set(folder, ensureClass(project, folder).id);
    const stamp = Date.now();
    for (const { row, folder } of toLabel) {
      insertLabel.run(row.id, classIds.get(folder)!, stamp, row.path);
      settle.run(row.id);
    }
    return toLabel.length;
  })();
}

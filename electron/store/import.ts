/**
 * Import (and re-import) of a folder: scan, then hash + header in worker threads, then thumbnails (full decode, so
 * damaged files are found), then folder labels. Files are referenced in place, never copied or modified.
 * Re-running finds new, changed (size/mtime/hash) and missing files; nothing is imported twice.
 */
import { CancelledError } from '../shared/errors.js';
import { listClasses } from './classes.js';
import { ImagePool } from './image-pool.js';
import type { ProbeResult } from './image-messages.js';
import type { Project } from './project.js';
import { scanFolder, type ScannedFile } from './scan.js';
import { applyFolderLabels } from './folder-labels.js';
import { holdForTest, markMissing, registerRoot, usableImageIds } from './import-steps.js';
import { generateThumbnails } from './thumbnails.js';

export type ImportPhase = 'scan' | 'probe' | 'thumbnails' | 'done';

export interface ImportProgress {
  phase: ImportPhase;
  /** Image files found so far (scan) or in total (later phases). */
  found: number;
  /** Files finished in this phase. */
  processed: number;
  /** Files to do in this phase. */
  total: number;
  /** Files per second in this phase. */
  rate: number;
  /** Estimated milliseconds left in this phase. */
  etaMs: number;
}

export interface ImportOptions {
  /** First-level folder names become classes (default true). */
  folderLabels?: boolean;
  /** Make thumbnails now, which also finds damaged files (default true). */
  thumbnails?: boolean;
  onProgress?: (progress: ImportProgress) => void;
  signal?: AbortSignal;
  pool?: ImagePool;
}

export interface ImportError {
  /** Path relative to the imported folder. */
  file: string;
  error: string;
}

export interface ImportResult {
  /** Images new to the project. */
  imported: number;
  /** Images given a class by this import (folder name). */
  labeled: number;
  /** Every class name in the project, in class order. */
  classes: string[];
  errors: ImportError[];
  /** Known images whose size, mtime or content changed. */
  changed: number;
  /** Known images under this folder that are no longer there. */
  missing: number;
  unchanged: number;
}

interface ExistingRow {
  id: number;
  size: number | null;
  mtime_ms: number | null;
  hash: string | null;
  status: string;
}

export async function importFolder(
  project: Project,
  dir: string,
  options: ImportOptions = {},
): Promise<ImportResult> {
  const folderLabels = options.folderLabels ?? true;
  const signal = options.signal;
  const { root, rootId } = await registerRoot(project, dir, folderLabels);

  const progress = (
    phase: ImportPhase,
    found: number,
    processed: number,
    total: number,
    startedAt: number,
  ) => {
    const elapsed = performance.now() - startedAt;
    const rate = elapsed > 0 ? (processed * 1000) / elapsed : 0;
    options.onProgress?.({
      phase,
      found,
      processed,
      total,
      rate,
      etaMs: rate > 0 ? ((total - processed) / rate) * 1000 : 0,
    });
  };

  // 1. Scan.
  const scanStart = performance.now();
  let scan;
  try {
    scan = await scanFolder(root, {
      signal,
      onFound: (found) => progress('scan', found, found, found, scanStart),
    });
  } catch (error) {
    if (signal?.aborted) throw new CancelledError('import cancelled');
    throw error;
  }
  const errors: ImportError[] = [];
  const errorRowIds = new Map<number, string>(); // image id → rel, for errors found later (thumbnails)
  const found = scan.files.length;

  // 2. Decide what needs reading: new files, changed size/mtime, earlier errors, files back from missing.
  const byPath = project.statement('SELECT id, size, mtime_ms, hash, status FROM images WHERE path = ?');
  const toProbe: { file: ScannedFile; existing?: ExistingRow }[] = [];
  const seenIds = new Set<number>();
  let unchanged = 0;
  for (const file of scan.files) {
    const existing = byPath.get(file.real) as ExistingRow | undefined;
    if (existing) seenIds.add(existing.id);
    if (
      existing &&
      existing.status === 'ok' &&
      existing.size === file.size &&
      existing.mtime_ms === file.mtimeMs
    )
      unchanged++;
    else toProbe.push({ file, existing });
  }

  const insertImage = project.statement(
    `INSERT INTO images (root_id, path, size, mtime_ms, hash, width, height, format, status, error, added_at,
                         checked_at, folder_label_pending)
     VALUES (@rootId, @path, @size, @mtimeMs, @hash, @width, @height, @format, @status, @error, @now, @now,
             @pending)`,
  );
  const updateImage = project.statement(
    `UPDATE images SET size = @size, mtime_ms = @mtimeMs, hash = @hash, width = @width, height = @height,
            format = @format, status = @status, error = @error, checked_at = @now
      WHERE id = @id`,
  );
  const updateRow = (row: Record<string, unknown>, id: number) => {
    const { pending: _pending, ...fields } = row;
    updateImage.run({ ...fields, id });
  };
  const newIds = new Set<number>(); // new rows that are usable images
  let changed = 0;
  const newContent: number[] = []; // ok images whose content is new to the project: thumbnails (and full decode)

  const writeResults = project.db.transaction(
    (batch: { file: ScannedFile; existing?: ExistingRow; result: ProbeResult | { error: string } }[]) => {
      const stamp = Date.now();
      for (const { file, existing, result } of batch) {
        const ok = 'hash' in result;
        const row = {
          rootId,
          path: file.real,
          size: ok ? result.size : file.size,
          mtimeMs: ok ? result.mtimeMs : file.mtimeMs,
          hash: ok ? result.hash : null,
          width: ok ? result.info.width : null,
          height: ok ? result.info.height : null,
          format: ok ? result.info.format : null,
          status: ok ? 'ok' : 'error',
          error: ok ? null : result.error,
          now: stamp,
          pending: file.folder === null ? 0 : 1,
        };
        let id: number;
        if (existing) {
          id = existing.id;
          if (existing.status === 'ok' && (!ok || existing.hash !== row.hash || existing.size !== row.size))
            changed++;
          updateRow(row, id);
        } else {
          id = Number(insertImage.run(row).lastInsertRowid);
          seenIds.add(id);
          if (ok) newIds.add(id);
        }
        if (ok) {
          if (!existing || existing.status !== 'ok' || existing.hash !== result.hash) newContent.push(id);
        } else {
          errors.push({ file: file.rel, error: result.error });
        }
        errorRowIds.set(id, file.rel);
      }
    },
  );

  // Scan problems (unreadable folders, broken links, FIFOs, vanished files) become error rows too.
  const writeProblems = project.db.transaction(() => {
    const stamp = Date.now();
    for (const problem of scan.problems) {
      errors.push({ file: problem.rel, error: problem.error });
      const existing = byPath.get(problem.path) as ExistingRow | undefined;
      const row = {
        rootId,
        path: problem.path,
        size: null,
        mtimeMs: null,
        hash: null,
        width: null,
        height: null,
        format: null,
        status: 'error',
        error: problem.error,
        now: stamp,
        pending: problem.rel.includes('/') ? 1 : 0,
      };
      if (existing) {
        seenIds.add(existing.id);
        updateRow(row, existing.id);
      } else {
        seenIds.add(Number(insertImage.run(row).lastInsertRowid));
      }
    }
  });
  writeProblems();

  // 3. Probe in worker threads, writing results in batches (one transaction each).
  const pool = options.pool ?? new ImagePool();
  const ownPool = !options.pool;
  const failedIds = new Set<number>();
  let missing = 0;
  let stopped: unknown;
  try {
    const probeStart = performance.now();
    let processed = 0;
    let next = 0;
    let batch: Parameters<typeof writeResults>[0] = [];
    progress('probe', found, 0, toProbe.length, probeStart);
    const lane = async () => {
      while (next < toProbe.length && !signal?.aborted) {
        const item = toProbe[next++];
        // A probe holds the whole file (hash and header): its size is its memory.
        const result = await pool.run({ type: 'probe', path: item.file.real }, item.file.size);
        batch.push({
          ...item,
          result:
            result.type === 'probed' ? result : { error: result.type === 'failed' ? result.error : '?' },
        });
        if (batch.length >= 200) {
          writeResults(batch);
          batch = [];
        }
        processed++;
        if (processed % 100 === 0 || processed === toProbe.length)
          progress('probe', found, processed, toProbe.length, probeStart);
      }
    };
    await Promise.all(Array.from({ length: pool.size * 3 }, lane));
    writeResults(batch);
    if (signal?.aborted) throw new CancelledError('import cancelled');

    // 4. Missing: known images of this folder that the scan did not see.
    missing = markMissing(project, rootId, seenIds);

    // 5. Thumbnails for new and changed images, and for those an earlier, interrupted import did not reach (full
    // decode: damaged data becomes an error row).
    await holdForTest('thumbnails', signal);
    if (options.thumbnails ?? true) {
      const thumbStart = performance.now();
      const imageIds = [...new Set([...newContent, ...usableImageIds(project, rootId)])];
      const { failures } = await generateThumbnails(project, {
        imageIds,
        pool,
        signal,
        onProgress: (p) => progress('thumbnails', found, p.processed, p.total, thumbStart),
      });
      for (const failure of failures) {
        failedIds.add(failure.imageId);
        errors.push({ file: errorRowIds.get(failure.imageId) ?? failure.path, error: failure.error });
      }
    }
  } catch (error) {
    stopped = error;
  } finally {
    if (ownPool) await pool.close();
  }

  // 6. Folder labels owed, also when the import stopped early (cancelled, cache full): every image saved gets its
  // label now, and one the process did not live to label gets it on the next run.
  let labeled = 0;
  if (folderLabels)
    try {
      labeled = applyFolderLabels(project, rootId, new Map(scan.files.map((f) => [f.real, f.folder])));
    } catch (error) {
      stopped ??= error;
    }
  if (stopped !== undefined) throw stopped;
  project.statement('UPDATE roots SET scanned_at = ? WHERE id = ?').run(Date.now(), rootId);
  progress('done', found, found, found, scanStart);
  errors.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  let imported = 0;
  for (const id of newIds) if (!failedIds.has(id)) imported++;
  return {
    imported,
    labeled,
    classes: listClasses(project).map((c) => c.name),
    errors,
    changed,
    missing,
    unchanged,
  };
}

/**
 * Exports of the labels: CSV (`path,label`), JSON, and an ImageFolder copy (`out/<class>/<file>`) that never
 * overwrites anything (a name already taken gets ` (1)`, ` (2)`… before its extension). Source images are only read.
 */
import { constants } from 'node:fs';
import { copyFile, link, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { CancelledError, SortaError, describeFsError } from '../shared/errors.js';
import { listClasses } from './classes.js';
import type { Project } from './project.js';

export interface LabelledImage {
  path: string;
  label: string;
  source: 'human' | 'model';
  confidence: number | null;
}

/** Every labelled image, ordered by path. */
export function labelledImages(project: Project): LabelledImage[] {
  return project
    .statement(
      `SELECT i.path, c.name AS label, l.source, l.confidence
         FROM labels l JOIN images i ON i.id = l.image_id JOIN classes c ON c.id = l.class_id
        ORDER BY i.path, i.id`,
    )
    .all() as LabelledImage[];
}

/** RFC 4180 quoting: fields with a comma, quote, line break or surrounding spaces are quoted, quotes doubled. */
export function csvField(value: string): string {
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function labelsToCsv(rows: readonly LabelledImage[]): string {
  return ['path,label', ...rows.map((r) => `${csvField(r.path)},${csvField(r.label)}`)].join('\r\n') + '\r\n';
}

export function labelsToJson(project: Project, rows: readonly LabelledImage[]): string {
  const classes = listClasses(project).map((c) => ({ name: c.name, color: c.color }));
  return JSON.stringify({ classes, labels: rows }, null, 2) + '\n';
}

export type ExportFormat = 'csv' | 'json';

export function exportFormatFor(file: string): ExportFormat {
  const ext = extname(file).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.json') return 'json';
  throw new SortaError(
    'invalid-input',
    `Cannot export labels to ${file}: the name must end in .csv or .json.`,
  );
}

/**
 * Writes the labels to `file` (.csv or .json), atomically (temporary file, then rename). Refuses to replace an
 * existing file unless `overwrite` is set.
 */
export async function exportLabels(
  project: Project,
  file: string,
  options: { overwrite?: boolean } = {},
): Promise<{ file: string; format: ExportFormat; labels: number }> {
  const target = resolve(file);
  const format = exportFormatFor(target);
  const rows = labelledImages(project);
  const text = format === 'csv' ? labelsToCsv(rows) : labelsToJson(project, rows);
  const temp = `${target}.${process.pid}.tmp`;
  try {
    await writeFile(temp, text, { flag: 'wx' });
    if (!options.overwrite) {
      // link() refuses an existing name, so an existing file is never replaced, even in a race.
      await link(temp, target);
      await rm(temp);
    } else {
      await rename(temp, target);
    }
  } catch (error) {
    await rm(temp, { force: true });
    const code = (error as { code?: string }).code;
    throw new SortaError(
      code === 'EEXIST' ? 'conflict' : 'io',
      code === 'EEXIST'
        ? `${target} already exists; choose another name (or pass --force to replace it).`
        : `Cannot write ${target}: ${describeFsError(error)}.`,
    );
  }
  return { file: target, format, labels: rows.length };
}

export interface ImageFolderProgress {
  total: number;
  copied: number;
}

export interface ImageFolderResult {
  copied: number;
  /** Files given a ` (n)` suffix because the name was taken. */
  renamed: number;
  errors: { file: string; error: string }[];
}

/** `photo.jpg` → `photo (1).jpg`, `photo (2).jpg`… */
export function suffixedName(name: string, n: number): string {
  const ext = extname(name);
  return `${name.slice(0, name.length - ext.length)} (${n})${ext}`;
}

/**
 * Copies every labelled, present image to `outDir/<class>/<file name>`. Never overwrites: an existing name gets the
 * next free ` (n)` suffix (COPYFILE_EXCL makes the check and the copy one step).
 */
export async function exportImageFolder(
  project: Project,
  outDir: string,
  options: { signal?: AbortSignal; onProgress?: (p: ImageFolderProgress) => void } = {},
): Promise<ImageFolderResult> {
  const rows = project
    .statement(
      `SELECT i.path, c.name AS label FROM labels l JOIN images i ON i.id = l.image_id
         JOIN classes c ON c.id = l.class_id WHERE i.status = 'ok' ORDER BY c.position, c.id, i.path, i.id`,
    )
    .all() as { path: string; label: string }[];
  const result: ImageFolderResult = { copied: 0, renamed: 0, errors: [] };
  const root = resolve(outDir);
  const made = new Set<string>();
  for (const row of rows) {
    if (options.signal?.aborted) throw new CancelledError('export cancelled');
    const dir = join(root, row.label);
    try {
      if (!made.has(dir)) {
        await mkdir(dir, { recursive: true });
        made.add(dir);
      }
      const name = basename(row.path);
      for (let n = 0; ; n++) {
        try {
          await copyFile(
            row.path,
            join(dir, n === 0 ? name : suffixedName(name, n)),
            constants.COPYFILE_EXCL,
          );
          if (n > 0) result.renamed++;
          break;
        } catch (error) {
          if ((error as { code?: string }).code !== 'EEXIST') throw error;
        }
      }
      result.copied++;
    } catch (error) {
      result.errors.push({ file: row.path, error: describeFsError(error) });
    }
    options.onProgress?.({ total: rows.length, copied: result.copied });
  }
  return result;
}

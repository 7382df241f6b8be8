/**
 * Walks an import folder. Hidden entries and non-image extensions are skipped silently; symbolic-link loops end
 * (each real directory is walked once); a file reachable by several paths is listed once; a directory named like an
 * image is walked as a directory. Files that cannot be used are reported, never thrown.
 */
import type { Dirent, Stats } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { extname, isAbsolute, join, relative, sep } from 'node:path';
import { describeFsError } from '../shared/errors.js';
import { IMAGE_EXTENSIONS } from '../shared/image-decode.js';

export interface ScannedFile {
  /** Path relative to the import folder as walked ('cats/a.jpg'), '/'-separated. */
  rel: string;
  /** Real absolute path (symbolic links resolved): the identity of the image in the project. */
  real: string;
  size: number;
  mtimeMs: number;
  /** First-level folder under the import folder ('cats'), or null for files directly in it. */
  folder: string | null;
}

export interface ScanProblem {
  rel: string;
  /** Best absolute path known (real path when it resolves). */
  path: string;
  error: string;
}

export interface ScanResult {
  files: ScannedFile[];
  problems: ScanProblem[];
}

function isImageName(name: string): boolean {
  return IMAGE_EXTENSIONS.has(extname(name).toLowerCase());
}

function toRel(root: string, path: string): string {
  return relative(root, path).split(sep).join('/');
}

function describeType(stats: Stats): string {
  if (stats.isFIFO()) return 'not a regular file (a named pipe)';
  if (stats.isSocket()) return 'not a regular file (a socket)';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'not a regular file (a device)';
  return 'not a regular file';
}

export async function scanFolder(
  root: string,
  options: { signal?: AbortSignal; onFound?: (found: number) => void } = {},
): Promise<ScanResult> {
  const files: ScannedFile[] = [];
  const problems: ScanProblem[] = [];
  const seenDirs = new Set<string>();
  const seenFiles = new Set<string>();
  const rootReal = await realpath(root);
  seenDirs.add(rootReal);

  const visit = async (dir: string): Promise<void> => {
    options.signal?.throwIfAborted();
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      problems.push({
        rel: toRel(root, dir),
        path: dir,
        error: `cannot read folder: ${describeFsError(error)}`,
      });
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      const rel = toRel(root, path);
      let stats: Stats;
      try {
        stats = await stat(path);
      } catch (error) {
        if (!isImageName(entry.name)) continue;
        const code = (error as { code?: string }).code;
        const reason =
          code === 'ELOOP'
            ? 'symbolic link loop'
            : code === 'ENOENT'
              ? entry.isSymbolicLink()
                ? 'broken symbolic link (its target does not exist)'
                : 'vanished during the scan (no such file)'
              : describeFsError(error);
        problems.push({ rel, path, error: reason });
        continue;
      }
      if (stats.isDirectory()) {
        let real: string;
        try {
          real = await realpath(path);
        } catch {
          continue;
        }
        if (seenDirs.has(real)) continue; // a symbolic-link loop or a second way into a folder already walked
        seenDirs.add(real);
        await visit(path);
        continue;
      }
      if (!isImageName(entry.name)) continue;
      if (!stats.isFile()) {
        problems.push({ rel, path, error: describeType(stats) });
        continue;
      }
      let real: string;
      try {
        real = await realpath(path);
      } catch (error) {
        problems.push({ rel, path, error: describeFsError(error) });
        continue;
      }
      const identity = `${stats.dev}:${stats.ino}`;
      if (seenFiles.has(real) || seenFiles.has(identity)) continue;
      seenFiles.add(real);
      seenFiles.add(identity);
      // The class comes from where the file really is when that is inside the folder (a link at the top level to
      // cats/a.jpg still means "cats"), else from the path it was found by.
      const realRel = toRel(rootReal, real);
      const classPath = realRel.startsWith('../') || isAbsolute(realRel) ? rel : realRel;
      const slash = classPath.indexOf('/');
      files.push({
        rel,
        real,
        size: stats.size,
        mtimeMs: Math.trunc(stats.mtimeMs),
        folder: slash > 0 ? classPath.slice(0, slash) : null,
      });
      if (files.length % 500 === 0) options.onFound?.(files.length);
    }
  };
  await visit(root);
  options.onFound?.(files.length);
  return { files, problems };
}

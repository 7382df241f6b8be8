/** Real folders of real files for the sort tests, and snapshots of them by content. */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { openProject, type Project } from '../../electron/store/project.js';
import type { JobPrediction } from '../../electron/store/jobs-repo.js';
import { recordPredictionJob } from '../../electron/sort/sort.js';

export function tempDir(prefix: string, base = tmpdir()): string {
  return mkdtempSync(join(base, `sorta-${prefix}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Writes files (relative path → content) under `root`, creating folders. */
export function writeFiles(root: string, files: Record<string, Buffer | string>): void {
  for (const [path, content] of Object.entries(files)) {
    const full = join(root, ...path.split('/'));
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
  }
}

/** Every regular file under `root` (relative '/' path → sha256); empty when the folder does not exist. */
export function snapshot(root: string): Map<string, string> {
  const result = new Map<string, string>();
  const walk = (dir: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile())
        result.set(relative(root, full).split('\\').join('/'), sha256(readFileSync(full)));
    }
  };
  walk(root);
  return result;
}

export function inode(path: string): number {
  return statSync(path).ino;
}

/**
 * `count` files with distinct random content in a few nested folders, small except every `bigEvery`-th one (4 MiB, so
 * that copying and hashing it take long enough to be interrupted); returns relative path → sha256.
 */
export function makeRandomTree(root: string, count: number, bigEvery = 0): Map<string, string> {
  const files: Record<string, Buffer> = {};
  for (let i = 0; i < count; i++) {
    const folder = ['', 'a/', 'a/b/', 'c/'][i % 4];
    const big = bigEvery > 0 && i % bigEvery === bigEvery - 1;
    files[`${folder}img-${String(i).padStart(4, '0')}.jpg`] = randomBytes(big ? 4 << 20 : 64 + (i % 7) * 97);
  }
  writeFiles(root, files);
  return snapshot(root);
}

export function openTestProject(dir: string): Project {
  return openProject(join(dir, 'test.sorta'));
}

/** A job holding given predictions for files of `sourceDir` (what classify would have stored). */
export function predictionJob(
  project: Project,
  sourceDir: string,
  predictions: { path: string; label: string; confidence: number }[],
): number {
  const rows: JobPrediction[] = predictions.map((p) => ({
    path: p.path,
    label: p.label,
    confidence: p.confidence,
    probs: { [p.label]: p.confidence },
    error: null,
  }));
  return recordPredictionJob(project, { sourceDir, predictions: rows });
}

/** Deterministic synthetic predictions for the files of a tree: three classes, some below 0.5. */
export function syntheticPredictions(
  paths: Iterable<string>,
): { path: string; label: string; confidence: number }[] {
  return [...paths].sort().map((path, i) => ({
    path,
    label: ['cat', 'dog', 'bird'][i % 3],
    confidence: 0.3 + (i % 7) / 10,
  }));
}

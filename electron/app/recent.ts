/**
 * The recent-projects list, a small JSON file in the app's data folder shared by the desktop app and web mode.
 * Written to a temporary name then renamed, so a crash never leaves half a file.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RecentProject } from '../contract/index.js';
import { projectName } from './context.js';

const MAX_RECENT = 12;
const FILE_NAME = 'recent-projects.json';

interface StoredEntry {
  path: string;
  openedAt: number;
}

function read(dataDir: string): StoredEntry[] {
  try {
    const parsed = JSON.parse(readFileSync(join(dataDir, FILE_NAME), 'utf8')) as unknown;
    if (!Array.isArray(parsed)) return [];
    return parsed.filter(
      (entry): entry is StoredEntry => typeof entry?.path === 'string' && typeof entry?.openedAt === 'number',
    );
  } catch {
    return [];
  }
}

function write(dataDir: string, entries: StoredEntry[]): void {
  mkdirSync(dataDir, { recursive: true });
  const target = join(dataDir, FILE_NAME);
  const temp = `${target}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify(entries, null, 2) + '\n');
  renameSync(temp, target);
}

export function recentProjects(dataDir: string): RecentProject[] {
  return read(dataDir).map((entry) => ({
    path: entry.path,
    name: projectName(entry.path),
    openedAt: entry.openedAt,
    exists: existsSync(entry.path),
  }));
}

export function rememberProject(dataDir: string, path: string, now = Date.now()): void {
  const entries = [{ path, openedAt: now }, ...read(dataDir).filter((entry) => entry.path !== path)];
  try {
    write(dataDir, entries.slice(0, MAX_RECENT));
  } catch {
    // An unwritable data folder costs the recent list, never the open.
  }
}

export function forgetProject(dataDir: string, path: string): void {
  write(
    dataDir,
    read(dataDir).filter((entry) => entry.path !== path),
  );
}

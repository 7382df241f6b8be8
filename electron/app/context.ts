/**
 * What every domain's handlers share: the open project (at most one), the running jobs, the event sink and the
 * app's data folder. One AppContext per shell process (the Electron core process, or `sorta serve`).
 */
import { basename } from 'node:path';
import type { ProjectInfo, SortaEvent } from '../contract/index.js';
import { SortaError } from '../shared/errors.js';
import { openProject, type Project } from '../store/project.js';
import { JobRunner } from './jobs.js';

export interface AppContextOptions {
  mode: 'electron' | 'web';
  /** Where settings (recent projects) live. */
  dataDir: string;
  /** Sends an event to every connected UI. */
  emit: (event: SortaEvent) => void;
}

export class AppContext {
  readonly mode: 'electron' | 'web';
  readonly dataDir: string;
  readonly jobs: JobRunner;
  private current: Project | null = null;
  private readonly sink: (event: SortaEvent) => void;
  private readonly closeHooks: ((project: Project) => void)[] = [];

  constructor(options: AppContextOptions) {
    this.mode = options.mode;
    this.dataDir = options.dataDir;
    this.sink = options.emit;
    this.jobs = new JobRunner((event) => this.emit(event));
  }

  emit(event: SortaEvent): void {
    try {
      this.sink(event);
    } catch {
      // A UI that went away must not break the work that reports to it.
    }
  }

  /** The open project; a clear error when there is none. */
  project(): Project {
    if (!this.current) throw new SortaError('not-found', 'No project is open: open or create one first.');
    return this.current;
  }

  get openProject(): Project | null {
    return this.current;
  }

  /** Opens `path` (creating it unless `create` is false), closing the previous project first. */
  open(path: string, create = true): Project {
    const next = openProject(path, { create });
    this.closeCurrent();
    this.current = next;
    return next;
  }

  close(): void {
    this.closeCurrent();
  }

  /** Something to release when the project closes (per-project caches, pools). */
  onProjectClose(hook: (project: Project) => void): void {
    this.closeHooks.push(hook);
  }

  private closeCurrent(): void {
    const previous = this.current;
    if (!previous) return;
    this.jobs.cancelAll();
    this.current = null;
    for (const hook of this.closeHooks) {
      try {
        hook(previous);
      } catch {
        // Closing must finish.
      }
    }
    previous.close();
  }
}

export function projectName(path: string): string {
  return basename(path).replace(/\.sorta$/i, '');
}

export type { ProjectInfo };

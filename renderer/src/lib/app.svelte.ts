/**
 * The application state: which screen shows, the open project, the compute backend, running jobs, and one
 * instance of each screen's state. Components get it with `getApp()`.
 */
import { getContext, setContext } from 'svelte';
import type { ProjectInfo, RecentProject, SortaEvent, SystemInfo } from '../../../electron/contract/index.js';
import type { SortaClient } from './api';
import { ClassEditor } from './class-editor.svelte';
import { ClassList } from './classes.svelte';
import { Gallery } from './gallery.svelte';
import { Importer } from './importer.svelte';
import { Connection } from './connection.svelte';
import { Jobs, outcomeFromEvent, outcomeFromRecord, type JobOutcome } from './jobs.svelte';
import { Labeler } from './labeler.svelte';
import { Notifier } from './notifier.svelte';
import { Selection } from './selection.svelte';
import { Sorter } from './sorter.svelte';
import { Theme } from './theme.svelte';
import { Trainer } from './trainer.svelte';

export type Screen = 'start' | 'label' | 'train' | 'sort';

export class AppState {
  screen = $state<Screen>('start');
  project = $state<ProjectInfo | null>(null);
  recent = $state<RecentProject[]>([]);
  system = $state<SystemInfo | null>(null);

  readonly notifier = new Notifier();
  readonly connection = new Connection();
  readonly theme = new Theme();
  readonly jobs = new Jobs();
  readonly classes: ClassList;
  readonly classEditor: ClassEditor;
  readonly gallery: Gallery;
  readonly selection = new Selection();
  readonly labeler: Labeler;
  readonly importer: Importer;
  readonly trainer: Trainer;
  readonly sorter: Sorter;

  constructor(readonly api: SortaClient) {
    this.classes = new ClassList(api);
    this.gallery = new Gallery(api, (error) => this.notifier.error('Could not load images', error));
    this.classEditor = new ClassEditor(api, this.classes, this.gallery, this.notifier);
    this.labeler = new Labeler(api, this.gallery, this.selection, this.classes, this.notifier);
    this.importer = new Importer(api, this.jobs, this.notifier, () => this.refreshProject());
    this.trainer = new Trainer(api, this.jobs, this.notifier);
    this.sorter = new Sorter(api, this.jobs, this.notifier);
    this.notifier.quietWhile(() => !this.connection.online);
    this.jobs.configure({
      fallback: (outcome) => this.#jobEnded(outcome),
      acknowledge: (jobId) => void this.api.invoke('jobs.acknowledge', { jobIds: [jobId] }).catch(() => {}),
      offline: () => !this.connection.online,
    });
    api.onAny((event) => this.#handle(event));
    api.onConnection((connected) => {
      if (this.connection.set(connected)) void this.#reconnected();
    });
  }

  get desktop(): boolean {
    return this.system?.mode === 'electron';
  }

  async init(): Promise<void> {
    try {
      const [system, project, recent] = await Promise.all([
        this.api.invoke('system.info', {}),
        this.api.invoke('project.current', {}),
        this.api.invoke('project.recent', {}),
      ]);
      this.system = system;
      this.recent = recent;
      if (project) await this.#enter(project);
      await this.#syncJobs();
    } catch (error) {
      this.notifier.error('Cannot reach Sorta', error);
    }
  }

  /**
   * Reattaches to every running job (progress, curves so far, cancel) and reports the jobs that ended while no
   * page showed them, oldest first.
   */
  async #syncJobs(): Promise<void> {
    const running = await this.api.invoke('jobs.running', {});
    for (const job of this.jobs.reset(running)) {
      this.trainer.attach(job);
      this.sorter.attach(job);
      this.importer.attach(job);
    }
    const ended = await this.api.invoke('jobs.recent', { unacknowledged: true });
    for (const job of ended.reverse()) await this.jobs.report(outcomeFromRecord(job));
  }

  /** The server is reachable again: ask what changed meanwhile. */
  async #reconnected(): Promise<void> {
    if (this.system === null) return this.init(); // the page loaded while the server was away
    try {
      const project = await this.api.invoke('project.current', {});
      this.project = project;
      if (project) await Promise.all([this.classes.refresh(), this.gallery.reload()]);
      await this.#syncJobs();
    } catch (error) {
      this.notifier.error('Could not refresh after reconnecting', error);
    }
  }

  /** The notice for a job no screen shows (exports, thumbnails). */
  #jobEnded(outcome: JobOutcome): void {
    if (outcome.state === 'failed') this.notifier.error(`${outcome.title} failed`, outcome.error);
    else if (outcome.state === 'cancelled') this.notifier.info(`${outcome.title}: cancelled`);
    else if (outcome.kind !== 'thumbnails') this.notifier.success(`${outcome.title}: done`);
  }

  async openProject(path: string, create: boolean): Promise<void> {
    try {
      const project = await this.api.invoke('project.open', { path: path.trim(), create });
      await this.#enter(project);
      this.recent = await this.api.invoke('project.recent', {});
    } catch (error) {
      this.notifier.error(create ? 'Could not create the project' : 'Could not open the project', error);
    }
  }

  /** Whether a file already exists at `path` (asked of the core, which may run elsewhere); false when unknown. */
  async fileExists(path: string): Promise<boolean> {
    const trimmed = path.trim();
    const cut = Math.max(trimmed.lastIndexOf('/'), trimmed.lastIndexOf('\\'));
    if (cut < 0) return false;
    try {
      const listing = await this.api.invoke('fs.list', {
        path: trimmed.slice(0, cut) || trimmed.slice(0, 1),
      });
      const name = trimmed.slice(cut + 1);
      return listing.entries.some((entry) => entry.name === name && entry.kind !== 'dir');
    } catch {
      return false;
    }
  }

  async closeProject(): Promise<void> {
    await this.api.invoke('project.close', {});
    this.project = null;
    this.classes.clear();
    this.trainer.reset();
    this.sorter.reset();
    this.screen = 'start';
    this.recent = await this.api.invoke('project.recent', {});
  }

  /** Reloads counts, classes and the grid (after an import). */
  async refreshProject(): Promise<void> {
    const project = await this.api.invoke('project.current', {});
    this.project = project;
    await Promise.all([this.classes.refresh(), this.gallery.reload()]);
  }

  /** Asks the native dialog for a folder (Electron); null in web mode or when cancelled. */
  async chooseFolder(title: string): Promise<string | null> {
    if (!this.desktop) return null;
    try {
      return (await this.api.invoke('dialog.openFolder', { title })).path;
    } catch (error) {
      this.notifier.error('Could not open the folder dialog', error);
      return null;
    }
  }

  /** Native open / save dialogs for a project file (Electron), then opens or creates it. */
  async openWithDialog(kind: 'open' | 'new'): Promise<void> {
    if (!this.desktop) {
      this.screen = 'start';
      return;
    }
    try {
      const method = kind === 'open' ? 'dialog.openFile' : 'dialog.saveFile';
      const result = await this.api.invoke(method, {
        title: kind === 'open' ? 'Open a Sorta project' : 'Create a Sorta project',
        filters: [{ name: 'Sorta projects', extensions: ['sorta'] }],
      });
      if (result.path) await this.openProject(result.path, kind === 'new');
    } catch (error) {
      this.notifier.error('Could not open the dialog', error);
    }
  }

  /** Import from the native folder dialog (Electron); in a browser, the Start screen's path field. */
  async importWithDialog(): Promise<void> {
    const path = await this.chooseFolder('Import a folder of images');
    if (path) await this.importer.run(path);
    else this.screen = 'start';
  }

  async #enter(project: ProjectInfo): Promise<void> {
    this.project = project;
    this.selection.reset();
    await Promise.all([this.classes.refresh(), this.gallery.setFilter({})]);
    this.screen = project.imageCount > 0 ? 'label' : 'start';
  }

  #handle(event: SortaEvent): void {
    this.jobs.handle(event);
    this.trainer.handle(event);
    if (event.type === 'job.finished') void this.jobs.report(outcomeFromEvent(event));
    if (event.type === 'project.changed') this.project = event.project;
    if (event.type === 'data.changed') void this.#reloadTopics(event.topics);
    if (event.type === 'menu.command') void this.#menu(event.command);
  }

  async #reloadTopics(topics: string[]): Promise<void> {
    if (!this.project) return;
    if (topics.includes('classes') || topics.includes('labels')) await this.classes.refresh();
    // The status bar's counts come from the project: refresh them with any change to images or labels.
    if (topics.some((topic) => topic === 'images' || topic === 'labels' || topic === 'classes'))
      this.project = await this.api.invoke('project.current', {});
    if (topics.includes('models')) await this.trainer.loadModels();
  }

  async #menu(command: string): Promise<void> {
    if (command === 'view.label' && this.project) this.screen = 'label';
    if (command === 'view.train' && this.project) this.screen = 'train';
    if (command === 'view.sort' && this.project) this.screen = 'sort';
    if (command === 'labels.undo') await this.labeler.undo();
    if (command === 'labels.redo') await this.labeler.redo();
    if (command === 'project.close') await this.closeProject();
    if (command === 'project.new' || command === 'project.open' || command === 'import.folder')
      this.screen = 'start';
  }
}

const KEY = Symbol('sorta-app');

export function provideApp(app: AppState): AppState {
  return setContext(KEY, app);
}

export function getApp(): AppState {
  return getContext<AppState>(KEY);
}

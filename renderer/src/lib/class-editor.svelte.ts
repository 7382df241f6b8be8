/**
 * Managing classes from the Label screen's sidebar: one class's actions open at a time, inline rename, recolour,
 * and merge / delete behind a confirmation. After each change the class counts and the grid are reloaded, since a
 * merge or delete changes the labels the grid shows.
 */
import type { ClassInfo } from '../../../electron/contract/index.js';
import type { SortaClient } from './api';
import type { ClassList } from './classes.svelte';
import type { Gallery } from './gallery.svelte';
import type { Notifier } from './notifier.svelte';

export type PendingChange =
  | { kind: 'merge'; source: ClassInfo; target: ClassInfo }
  | { kind: 'delete'; cls: ClassInfo };

export class ClassEditor {
  /** The class whose actions panel is open. */
  openId = $state<number | null>(null);
  /** The class whose name is being edited in place. */
  renamingId = $state<number | null>(null);
  /** A merge or delete waiting for the user's confirmation. */
  pending = $state<PendingChange | null>(null);
  busy = $state(false);

  constructor(
    private readonly api: SortaClient,
    private readonly classes: ClassList,
    private readonly gallery: Gallery,
    private readonly notifier: Notifier,
  ) {}

  toggle(id: number): void {
    this.openId = this.openId === id ? null : id;
    this.renamingId = null;
  }

  startRename(id: number): void {
    this.renamingId = id;
    this.openId = null;
  }

  /** Saves a new name; false (the field stays open) when the core refuses it, e.g. a duplicate name. */
  async rename(cls: ClassInfo, name: string): Promise<boolean> {
    const trimmed = name.trim();
    if (!trimmed || trimmed === cls.name) {
      this.renamingId = null;
      return true;
    }
    const ok = await this.#run(`Could not rename ${cls.name}`, () =>
      this.api.invoke('classes.update', { id: cls.id, name: trimmed }),
    );
    if (ok) this.renamingId = null;
    return ok;
  }

  async recolor(cls: ClassInfo, color: string): Promise<void> {
    if (color.toLowerCase() === cls.color.toLowerCase()) return;
    await this.#run(`Could not change the colour of ${cls.name}`, () =>
      this.api.invoke('classes.update', { id: cls.id, color }),
    );
  }

  askMerge(source: ClassInfo, targetId: number): void {
    const target = this.classes.byId.get(targetId);
    if (target && target.id !== source.id) this.pending = { kind: 'merge', source, target };
  }

  askDelete(cls: ClassInfo): void {
    this.pending = { kind: 'delete', cls };
  }

  /** Carries out the pending merge or delete. */
  async confirm(): Promise<void> {
    const change = this.pending;
    this.pending = null;
    if (!change) return;
    if (change.kind === 'merge') {
      const { source, target } = change;
      await this.#run(
        `Could not merge ${source.name} into ${target.name}`,
        async () => {
          const { moved } = await this.api.invoke('classes.merge', {
            sourceId: source.id,
            targetId: target.id,
          });
          this.notifier.success(`Merged ${source.name} into ${target.name}`, `${moved} labels moved.`);
        },
        source.id,
      );
    } else {
      const { cls } = change;
      await this.#run(
        `Could not delete ${cls.name}`,
        async () => {
          const { labelsRemoved } = await this.api.invoke('classes.delete', { id: cls.id });
          this.notifier.success(`Deleted ${cls.name}`, `${labelsRemoved} labels removed.`);
        },
        cls.id,
      );
    }
  }

  cancel(): void {
    this.pending = null;
  }

  /** Runs one change, shows its error as a toast, and reloads classes and the grid; true when it succeeded. */
  async #run(title: string, change: () => Promise<unknown>, removedId?: number): Promise<boolean> {
    this.busy = true;
    try {
      await change();
      if (removedId !== undefined) this.openId = null;
      return true;
    } catch (error) {
      this.notifier.error(title, error);
      return false;
    } finally {
      this.busy = false;
      await this.#reload(removedId);
    }
  }

  async #reload(removedId?: number): Promise<void> {
    const showingRemoved = removedId !== undefined && this.gallery.filter.classId === removedId;
    await Promise.all([
      this.classes.refresh(),
      showingRemoved ? this.gallery.setFilter({}) : this.gallery.reload(),
    ]);
  }
}

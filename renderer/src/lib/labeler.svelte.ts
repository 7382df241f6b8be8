/**
 * Keyboard-first labelling: assign or clear the class of the cursor image (then advance) or of every selected image
 * at once; undo and redo go to the store's persistent edit history.
 */
import type { SortaClient } from './api';
import type { ClassList } from './classes.svelte';
import type { Gallery } from './gallery.svelte';
import type { Notifier } from './notifier.svelte';
import type { Selection } from './selection.svelte';

export class Labeler {
  autoAdvance = $state(true);
  /** Columns of the grid as laid out now (arrow up/down move by a row). */
  columns = $state(1);
  previewOpen = $state(false);
  busy = $state(false);

  constructor(
    private readonly api: SortaClient,
    readonly gallery: Gallery,
    readonly selection: Selection,
    readonly classes: ClassList,
    private readonly notifier: Notifier,
  ) {}

  /** The images a label key applies to: the multi-selection when there is one, else the cursor image. */
  targets(): number[] {
    if (this.selection.size > 1) return [...this.selection.ids];
    const item = this.gallery.at(this.selection.cursor);
    return item ? [item.id] : [];
  }

  async assign(classId: number | null): Promise<void> {
    const ids = this.targets();
    if (ids.length === 0) return;
    const bulk = ids.length > 1;
    // Advance before the round trip: a fast typist's next key must go to the next image, not to this one again.
    if (!bulk && this.autoAdvance) this.move(1);
    this.busy = true;
    try {
      await this.api.invoke('labels.set', { imageIds: ids, classId });
      // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a throwaway lookup set
      this.gallery.patch(new Set(ids), {
        classId,
        labelSource: classId === null ? null : 'human',
        confidence: null,
      });
      if (bulk) {
        const name = classId === null ? 'cleared' : this.classes.byId.get(classId)?.name;
        this.notifier.success(`${ids.length} images ${classId === null ? 'cleared' : `labelled ${name}`}`);
        this.selection.clear();
      }
      await this.classes.refresh();
    } catch (error) {
      this.notifier.error('Could not change the label', error);
    } finally {
      this.busy = false;
    }
  }

  async assignHotkey(key: number): Promise<void> {
    const target = this.classes.atHotkey(key);
    if (target) await this.assign(target.id);
  }

  move(delta: number): void {
    this.selection.clear();
    this.selection.moveTo(this.selection.cursor + delta, this.gallery.total);
  }

  async undo(): Promise<void> {
    await this.#history('labels.undo', 'Nothing to undo');
  }

  async redo(): Promise<void> {
    await this.#history('labels.redo', 'Nothing to redo');
  }

  async #history(method: 'labels.undo' | 'labels.redo', emptyMessage: string): Promise<void> {
    try {
      const step =
        method === 'labels.undo'
          ? await this.api.invoke('labels.undo', {})
          : await this.api.invoke('labels.redo', {});
      if (step.changed === 0) {
        this.notifier.info(emptyMessage);
        return;
      }
      await Promise.all([this.gallery.reload(), this.classes.refresh()]);
    } catch (error) {
      this.notifier.error('Undo/redo failed', error);
    }
  }
}

/**
 * The grid's cursor (the focused cell) and the multi-selection: click selects one, Ctrl/⌘-click toggles, Shift-click
 * selects the range from the anchor. Selection holds image ids so it survives scrolling and page reloads.
 */
import { SvelteSet } from 'svelte/reactivity';

export class Selection {
  cursor = $state(0);
  anchor = 0;
  readonly ids = new SvelteSet<number>();

  get size(): number {
    return this.ids.size;
  }

  has(id: number): boolean {
    return this.ids.has(id);
  }

  /** Moves the cursor, clamped to [0, total). */
  moveTo(index: number, total: number): void {
    this.cursor = Math.max(0, Math.min(total - 1, index));
  }

  single(index: number, id: number): void {
    this.ids.clear();
    this.ids.add(id);
    this.cursor = index;
    this.anchor = index;
  }

  toggle(index: number, id: number): void {
    if (this.ids.has(id)) this.ids.delete(id);
    else this.ids.add(id);
    this.cursor = index;
    this.anchor = index;
  }

  /** Replaces the selection by the ids of the range anchor…index (the caller loads them). */
  selectRange(index: number, ids: number[]): void {
    this.ids.clear();
    for (const id of ids) this.ids.add(id);
    this.cursor = index;
  }

  clear(): void {
    this.ids.clear();
  }

  reset(): void {
    this.ids.clear();
    this.cursor = 0;
    this.anchor = 0;
  }
}

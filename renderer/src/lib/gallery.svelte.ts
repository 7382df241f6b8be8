/**
 * The images behind the grid: a total and pages fetched on demand (offset/limit), so 100,000 images cost only the
 * pages in view. A generation number drops answers to queries made for an older filter. Besides a filter, the
 * grid can show an explicit list of ids (a confusion-matrix cell).
 */
import { SvelteMap } from 'svelte/reactivity';
import type { ImageFilter, ImageItem } from '../../../electron/contract/index.js';
import type { SortaClient } from './api';
import { pagesFor } from './virtual';

export const PAGE_SIZE = 200;

export class Gallery {
  filter = $state<ImageFilter>({});
  /** When set, the grid shows exactly these images (in this order) instead of the filter's. */
  ids = $state<number[] | null>(null);
  /** Describes a selection made elsewhere (a confusion-matrix cell), shown as a removable chip. */
  note = $state<string | null>(null);
  total = $state(0);
  loaded = $state(false);
  readonly #pages = new SvelteMap<number, ImageItem[]>();
  // Bookkeeping of in-flight page requests; nothing renders from it.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  readonly #pending = new Set<number>();
  #generation = 0;

  constructor(
    private readonly api: SortaClient,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** The image at grid index `index`, or undefined while its page loads (the page is requested). */
  at(index: number): ImageItem | undefined {
    const page = Math.floor(index / PAGE_SIZE);
    const items = this.#pages.get(page);
    if (!items) {
      void this.#load(page);
      return undefined;
    }
    return items[index - page * PAGE_SIZE];
  }

  /** Loads every page covering [start, end) and returns those images (shift-click ranges). */
  async range(start: number, end: number): Promise<ImageItem[]> {
    await Promise.all(pagesFor(start, end, PAGE_SIZE).map((page) => this.#load(page)));
    const items: ImageItem[] = [];
    for (let index = start; index < end; index++) {
      const item = this.#pages.get(Math.floor(index / PAGE_SIZE))?.[index % PAGE_SIZE];
      if (item) items.push(item);
    }
    return items;
  }

  setFilter(filter: ImageFilter): Promise<void> {
    this.filter = filter;
    this.ids = null;
    this.note = null;
    return this.reload();
  }

  showIds(ids: number[], note: string): Promise<void> {
    this.ids = ids;
    this.note = note;
    return this.reload();
  }

  /** Drops every page and fetches the first again (after an import, an undo or a filter change). */
  async reload(): Promise<void> {
    this.#generation++;
    this.#pages.clear();
    this.#pending.clear();
    await this.#load(0);
    this.loaded = true;
  }

  /** Updates loaded images in place after a label edit, so the grid keeps its order until the next reload. */
  patch(ids: Set<number>, change: Partial<ImageItem>): void {
    for (const [page, items] of this.#pages) {
      if (items.some((item) => ids.has(item.id)))
        this.#pages.set(
          page,
          items.map((item) => (ids.has(item.id) ? { ...item, ...change } : item)),
        );
    }
  }

  async #load(page: number): Promise<void> {
    if (this.#pages.has(page) || this.#pending.has(page)) return;
    const generation = this.#generation;
    this.#pending.add(page);
    try {
      const { total, items } = await this.#fetch(page);
      if (generation !== this.#generation) return;
      this.total = total;
      this.#pages.set(page, items);
    } catch (error) {
      if (generation === this.#generation) this.onError(error);
    } finally {
      if (generation === this.#generation) this.#pending.delete(page);
    }
  }

  async #fetch(page: number): Promise<{ total: number; items: ImageItem[] }> {
    const offset = page * PAGE_SIZE;
    if (this.ids) {
      const ids = this.ids.slice(offset, offset + PAGE_SIZE);
      const items = await Promise.all(ids.map((id) => this.api.invoke('images.get', { id })));
      return { total: this.ids.length, items };
    }
    const filter = $state.snapshot(this.filter);
    return this.api.invoke('images.query', { filter, offset, limit: PAGE_SIZE });
  }
}

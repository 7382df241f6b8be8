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
const FETCH_EVERY_MS = 60;

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
  #wanted: [number, number] = [0, 0];
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly api: SortaClient,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** The image at grid index `index`, or undefined while its page is not loaded (see `want`). */
  at(index: number): ImageItem | undefined {
    return this.#pages.get(Math.floor(index / PAGE_SIZE))?.[index % PAGE_SIZE];
  }

  /**
   * The grid says which items are in view. Pages are fetched at most every FETCH_EVERY_MS for the latest range,
   * so a fast fling through 100,000 images fetches a few pages, not every page it passes.
   */
  want(start: number, end: number): void {
    this.#wanted = [start, end];
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      const [from, to] = this.#wanted;
      for (const page of pagesFor(from, to, PAGE_SIZE)) void this.#load(page);
    }, FETCH_EVERY_MS);
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
    // Page 0 for the total, and the pages in view now (the grid does not ask again when its rows stay the same).
    const pages = [0, ...pagesFor(this.#wanted[0], this.#wanted[1], PAGE_SIZE).filter((page) => page > 0)];
    await Promise.all(pages.map((page) => this.#load(page)));
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

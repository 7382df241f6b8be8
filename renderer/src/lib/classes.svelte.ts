/** The project's classes with their counts; their order gives the hotkeys 1–9. */
import type { ClassInfo } from '../../../electron/contract/index.js';
import type { SortaClient } from './api';

export class ClassList {
  items = $state<ClassInfo[]>([]);
  // A fresh Map per change of `items`, never mutated: no reactivity needed inside it.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  readonly byId = $derived(new Map(this.items.map((item) => [item.id, item])));
  readonly labelledCount = $derived(this.items.reduce((sum, item) => sum + item.count, 0));

  constructor(private readonly api: SortaClient) {}

  async refresh(): Promise<void> {
    const items = await this.api.invoke('classes.list', {});
    this.items = [...items].sort((a, b) => a.position - b.position);
  }

  /** The class for hotkey 1–9 (index 0–8 in display order). */
  atHotkey(key: number): ClassInfo | undefined {
    return this.items[key - 1];
  }

  byName(name: string): ClassInfo | undefined {
    return this.items.find((item) => item.name === name);
  }

  async add(name: string): Promise<void> {
    await this.api.invoke('classes.create', { name });
    await this.refresh();
  }

  clear(): void {
    this.items = [];
  }
}

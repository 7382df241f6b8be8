/** Light / dark theme: follows the system until the user picks one, which is remembered in localStorage. */
export type ThemeChoice = 'system' | 'light' | 'dark';

const STORAGE_KEY = 'sorta.theme';

export class Theme {
  choice = $state<ThemeChoice>('system');
  #systemDark = $state(false);

  /** The theme actually shown. */
  readonly effective = $derived<'light' | 'dark'>(
    this.choice === 'system' ? (this.#systemDark ? 'dark' : 'light') : this.choice,
  );

  constructor() {
    const saved = safeStorage()?.getItem(STORAGE_KEY);
    if (saved === 'light' || saved === 'dark') this.choice = saved;
    const query = globalThis.matchMedia?.('(prefers-color-scheme: dark)');
    if (query) {
      this.#systemDark = query.matches;
      query.addEventListener('change', (event) => (this.#systemDark = event.matches));
    }
    this.#apply();
  }

  /** Switches to the opposite of what is shown now (an explicit choice from then on). */
  toggle(): void {
    this.choice = this.effective === 'dark' ? 'light' : 'dark';
    safeStorage()?.setItem(STORAGE_KEY, this.choice);
    this.#apply();
  }

  #apply(): void {
    const root = globalThis.document?.documentElement;
    if (!root) return;
    if (this.choice === 'system') root.removeAttribute('data-theme');
    else root.setAttribute('data-theme', this.choice);
  }
}

function safeStorage(): Storage | undefined {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined; // storage can be disabled (private windows, sandboxed pages)
  }
}

/**
 * Toasts for errors and confirmations. Errors keep their `{code, message}` so the user sees the reason. Toasts
 * dismiss themselves (errors after longer), the same notice shown again while on screen counts up instead of
 * stacking, and every notice stays in `history` so that a dismissed one can be seen again.
 */
export interface Toast {
  id: number;
  kind: 'error' | 'info' | 'success';
  title: string;
  message: string;
  code?: string;
  /** How many times this same notice came while it was on screen. */
  repeats: number;
  at: number;
}

export interface ErrorLike {
  code?: string;
  message?: string;
}

/** How long a toast stays (ms): long enough to read an error's reason. */
export const TOAST_MS = { info: 4000, success: 4000, error: 12_000 } as const;
const VISIBLE = 3;
const HISTORY = 50;

export class Notifier {
  toasts = $state<Toast[]>([]);
  history = $state<Toast[]>([]);
  #nextId = 1;
  #quiet: () => boolean = () => false;
  // Timers are bookkeeping, not shown.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  readonly #timers = new Map<number, ReturnType<typeof setTimeout>>();

  /** While `quiet()` holds (the server cannot be reached), failed calls show no toast: the banner says it once. */
  quietWhile(quiet: () => boolean): void {
    this.#quiet = quiet;
  }

  show(kind: Toast['kind'], title: string, message = '', code?: string): number {
    const same = this.toasts.find(
      (t) => t.kind === kind && t.title === title && t.message === message && t.code === code,
    );
    if (same) {
      this.toasts = this.toasts.map((t) => (t.id === same.id ? { ...t, repeats: t.repeats + 1 } : t));
      this.#expire(same.id, kind);
      return same.id;
    }
    const toast: Toast = { id: this.#nextId++, kind, title, message, code, repeats: 1, at: Date.now() };
    const dropped = this.toasts.slice(0, Math.max(0, this.toasts.length - (VISIBLE - 1)));
    for (const old of dropped) this.#clearTimer(old.id);
    this.toasts = [...this.toasts.slice(dropped.length), toast];
    this.history = [toast, ...this.history].slice(0, HISTORY);
    this.#expire(toast.id, kind);
    return toast.id;
  }

  info(title: string, message = ''): void {
    this.show('info', title, message);
  }

  success(title: string, message = ''): void {
    this.show('success', title, message);
  }

  /** Shows an error thrown by an API call (`{code, message}` from the core) with what we were trying to do. */
  error(title: string, error: unknown): void {
    const { code, message } = describeError(error);
    if (code === 'io' && this.#quiet()) return;
    this.show('error', title, message, code);
  }

  dismiss(id: number): void {
    this.#clearTimer(id);
    this.toasts = this.toasts.filter((toast) => toast.id !== id);
  }

  clearHistory(): void {
    this.history = [];
  }

  #expire(id: number, kind: Toast['kind']): void {
    this.#clearTimer(id);
    const timer = setTimeout(() => this.dismiss(id), TOAST_MS[kind]);
    // In Node (the unit tests) a pending toast must not keep the process alive.
    (timer as { unref?: () => void }).unref?.();
    this.#timers.set(id, timer);
  }

  #clearTimer(id: number): void {
    clearTimeout(this.#timers.get(id));
    this.#timers.delete(id);
  }
}

export function describeError(error: unknown): { code?: string; message: string } {
  if (error && typeof error === 'object') {
    const { code, message } = error as ErrorLike;
    if (typeof message === 'string') return { code: typeof code === 'string' ? code : undefined, message };
  }
  return { message: String(error) };
}

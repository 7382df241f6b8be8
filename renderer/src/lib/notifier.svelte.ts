/** Toasts for errors and confirmations. Errors keep their `{code, message}` so the user sees the reason. */
export interface Toast {
  id: number;
  kind: 'error' | 'info' | 'success';
  title: string;
  message: string;
  code?: string;
}

export interface ErrorLike {
  code?: string;
  message?: string;
}

export class Notifier {
  toasts = $state<Toast[]>([]);
  #nextId = 1;
  #quiet: () => boolean = () => false;

  /** While `quiet()` holds (the server cannot be reached), failed calls show no toast: the banner says it once. */
  quietWhile(quiet: () => boolean): void {
    this.#quiet = quiet;
  }

  show(kind: Toast['kind'], title: string, message = '', code?: string): number {
    const id = this.#nextId++;
    this.toasts = [...this.toasts.slice(-4), { id, kind, title, message, code }];
    if (kind !== 'error') setTimeout(() => this.dismiss(id), 4000);
    return id;
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
    this.toasts = this.toasts.filter((toast) => toast.id !== id);
  }
}

export function describeError(error: unknown): { code?: string; message: string } {
  if (error && typeof error === 'object') {
    const { code, message } = error as ErrorLike;
    if (typeof message === 'string') return { code: typeof code === 'string' ? code : undefined, message };
  }
  return { message: String(error) };
}

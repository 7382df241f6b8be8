/**
 * IPC in the main process: one `ipcMain.handle` per contract method. Every message is checked before use: it must
 * come from our window's main frame, loaded from our own origin, and its input must pass the method's zod
 * schema (again in the core, where the handler runs). Replies are `{ok, value} | {ok: false, error: {code,
 * message}}`, never thrown errors.
 */
import { contract, methodNames, type MethodName, type Reply } from '../contract/index.js';
import { serializeError, SortaError } from '../shared/errors.js';
import { methodChannel } from './channels.js';

/** The part of an IpcMainInvokeEvent that the sender check reads. */
export interface InvokeEventLike {
  sender: unknown;
  senderFrame: { url: string; parent?: unknown } | null;
}

export interface IpcMainLike {
  handle(channel: string, listener: (event: InvokeEventLike, ...args: unknown[]) => Promise<unknown>): void;
  removeHandler(channel: string): void;
}

export interface IpcOptions {
  /** True when the event comes from our window's top frame showing our app origin. */
  isTrustedSender(event: InvokeEventLike): boolean;
  /** Runs a validated call (in the core process, or in main for dialogs). */
  call(method: MethodName, input: unknown): Promise<Reply>;
}

/** The app's own origin: the renderer is served from `sorta://app/`. */
export const APP_ORIGIN = 'sorta://app';

export function isAppUrl(url: string | undefined | null): boolean {
  if (!url) return false;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'sorta:' && parsed.host === 'app';
  } catch {
    return false;
  }
}

export function registerIpc(ipcMain: IpcMainLike, options: IpcOptions): () => void {
  for (const method of methodNames) {
    ipcMain.handle(methodChannel(method), async (event, input) => {
      try {
        if (!options.isTrustedSender(event))
          throw new SortaError('usage', `Refused ${method}: the message did not come from Sorta's window.`);
        const parsed = contract[method].input.safeParse(input ?? {});
        if (!parsed.success)
          throw new SortaError(
            'invalid-input',
            `Bad input for ${method}: ${parsed.error.issues[0]?.message}`,
          );
        return await options.call(method, parsed.data);
      } catch (error) {
        return { ok: false, error: serializeError(error) } satisfies Reply;
      }
    });
  }
  return () => {
    for (const method of methodNames) ipcMain.removeHandler(methodChannel(method));
  };
}

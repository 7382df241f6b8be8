/**
 * What the preload exposes as `window.sorta`, built from the contract's method list: `invoke` only for those
 * methods (each on its own channel), `on` for events. The renderer never sees ipcRenderer itself. Kept free of
 * Electron imports so that tests can build it with a stand-in for ipcRenderer.
 */
import {
  isMethodName,
  methodNames,
  type MethodName,
  type Reply,
  type SortaBridge,
  type SortaEvent,
} from '../contract/index.js';
import { EVENT_CHANNEL, methodChannel } from './channels.js';

/** The part of Electron's ipcRenderer the bridge uses. */
export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

/** Electron's webUtils.getPathForFile, which only the preload can call. */
export type PathForFile = (file: never) => string;

export function createBridge(ipc: IpcRendererLike, pathForFile: PathForFile = () => ''): SortaBridge {
  const methods: readonly MethodName[] = Object.freeze([...methodNames]);
  return Object.freeze({
    methods,
    invoke(method: MethodName, input: unknown): Promise<Reply> {
      if (!isMethodName(method))
        return Promise.resolve({
          ok: false,
          error: { code: 'not-found', message: `There is no method ${String(method).slice(0, 100)}.` },
        });
      return ipc.invoke(methodChannel(method), input) as Promise<Reply>;
    },
    pathForFile(file: unknown): string {
      // Only real File objects have a path; anything else (or a file made in the page) gives ''.
      try {
        return pathForFile(file as never) || '';
      } catch {
        return '';
      }
    },
    on(listener: (event: SortaEvent) => void): () => void {
      // Only the event is passed on: the IpcRendererEvent (with its sender) stays in the preload.
      const wrapped = (_event: unknown, payload: unknown) => listener(payload as SortaEvent);
      ipc.on(EVENT_CHANNEL, wrapped);
      return () => {
        ipc.removeListener(EVENT_CHANNEL, wrapped);
      };
    },
  } satisfies SortaBridge);
}

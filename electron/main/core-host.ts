/**
 * The core, in Electron's utility process: every handler (SQLite, imports, training, sorting and their worker
 * threads) runs here, so the main process never blocks. Started by core-process.ts with `utilityProcess.fork`.
 */
import { createApp } from '../app/create-app.js';
import { dispatch } from '../app/registry.js';
import { appDataDir } from '../shared/app-paths.js';
import { SortaError, serializeError } from '../shared/errors.js';
import type { FromCore, ToCore } from './core-messages.js';

const port = process.parentPort;
const send = (message: FromCore) => port.postMessage(message);

const app = createApp({
  mode: 'electron',
  dataDir: appDataDir(),
  emit: (event) => send({ type: 'event', event }),
  // The native dialogs live in the main process, which answers them before they would reach this one.
  extraSetup: (registry) => {
    const elsewhere = async (): Promise<never> => {
      throw new SortaError('internal', 'Dialogs are handled by the main process.');
    };
    registry.handle('dialog.openFolder', elsewhere);
    registry.handle('dialog.openFile', elsewhere);
    registry.handle('dialog.saveFile', elsewhere);
    registry.handle('shell.showItem', elsewhere);
  },
});

port.on('message', (messageEvent: { data: unknown }) => {
  const message = messageEvent.data as ToCore;
  switch (message.type) {
    case 'call':
      void dispatch(app.handlers, message.method, message.input).then((reply) =>
        send({ type: 'reply', id: message.id, reply }),
      );
      break;
    case 'media':
      app.resolveMedia(message.ref, message.variant).then(
        (file) =>
          send({
            type: 'media',
            id: message.id,
            file: { path: file.path, contentType: file.contentType ?? null },
            error: null,
          }),
        (error: unknown) => send({ type: 'media', id: message.id, file: null, error: serializeError(error) }),
      );
      break;
    case 'shutdown':
      void app.shutdown().finally(() => process.exit(0));
      break;
  }
});

send({ type: 'ready' });

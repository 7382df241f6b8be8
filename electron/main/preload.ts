/**
 * The preload: exposes the narrow `window.sorta` bridge and nothing else. Sandboxed preloads cannot import
 * modules, so this file is bundled (with the contract and zod) into `dist/electron/main/preload.cjs` by
 * `npm run build:preload` (vite, preload.vite.config.ts); only `electron` stays external.
 */
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import { createBridge } from './bridge.js';

contextBridge.exposeInMainWorld(
  'sorta',
  createBridge(ipcRenderer, (file) => webUtils.getPathForFile(file)),
);

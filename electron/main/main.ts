/**
 * The Electron main process, kept thin: one window (context isolation, sandbox, no Node in the renderer, strict
 * CSP, no navigation, no new windows, no permissions), IPC checked per message, native dialogs and menus.
 * Everything else runs in the core's utility process (core-host.ts), the same handlers `sorta serve` uses.
 */
import { app, BrowserWindow, dialog, ipcMain, Menu, session, shell, type WebContents } from 'electron';
import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import { recentProjects } from '../app/recent.js';
import type { MethodName, MethodOutput, ParsedInput, Reply, SortaEvent } from '../contract/index.js';
import { appDataDir } from '../shared/app-paths.js';
import { SortaError, serializeError } from '../shared/errors.js';
import { EVENT_CHANNEL } from './channels.js';
import { CoreProcess } from './core-process.js';
import { isAppUrl, registerIpc, type InvokeEventLike } from './ipc.js';
import { buildMenu } from './menu.js';
import { APP_SCHEME, CONTENT_SECURITY_POLICY, handleProtocols, registerSchemes } from './protocols.js';
import { loadWindowState, trackWindowState } from './window-state.js';

const RENDERER_DIR = fileURLToPath(new URL('../../renderer/', import.meta.url));
const PRELOAD = fileURLToPath(new URL('./preload.cjs', import.meta.url));
const APP_URL = `${APP_SCHEME}://app/index.html`;

let mainWindow: BrowserWindow | null = null;
let core: CoreProcess | null = null;

registerSchemes();
/** A second launch focuses the first window instead of opening the same projects twice. */
const isFirstInstance = app.requestSingleInstanceLock();
if (!isFirstInstance) app.quit();

function sendEvent(event: SortaEvent): void {
  if (mainWindow && !mainWindow.isDestroyed()) mainWindow.webContents.send(EVENT_CHANNEL, event);
  if (event.type === 'project.changed') refreshMenu();
}

function refreshMenu(): void {
  Menu.setApplicationMenu(
    buildMenu({
      command: (command) => sendEvent({ type: 'menu.command', command }),
      openRecent: (path) => void core?.call('project.open', { path, create: false }).then(reportFailure),
      recent: () => recentProjects(appDataDir()),
    }),
  );
}

function reportFailure(reply: Reply): void {
  if (!reply.ok && mainWindow)
    void dialog.showMessageBox(mainWindow, { type: 'error', message: reply.error.message });
}

/** Only our window's top frame, showing our own origin, may call. */
function isTrustedSender(event: InvokeEventLike): boolean {
  const frame = event.senderFrame;
  return (
    mainWindow !== null &&
    !mainWindow.isDestroyed() &&
    event.sender === mainWindow.webContents &&
    frame !== null &&
    !frame.parent &&
    isAppUrl(frame.url)
  );
}

type DialogMethod = 'dialog.openFolder' | 'dialog.openFile' | 'dialog.saveFile' | 'shell.showItem';
const dialogHandlers: { [K in DialogMethod]: (input: ParsedInput<K>) => Promise<MethodOutput<K>> } = {
  async 'dialog.openFolder'({ title, defaultPath }) {
    const result = await dialog.showOpenDialog(mainWindow!, {
      title,
      defaultPath,
      properties: ['openDirectory', 'createDirectory'],
    });
    return { path: result.canceled ? null : (result.filePaths[0] ?? null) };
  },
  async 'dialog.openFile'({ title, defaultPath, filters }) {
    const result = await dialog.showOpenDialog(mainWindow!, {
      title,
      defaultPath,
      filters,
      properties: ['openFile'],
    });
    return { path: result.canceled ? null : (result.filePaths[0] ?? null) };
  },
  async 'dialog.saveFile'({ title, defaultPath, filters }) {
    const result = await dialog.showSaveDialog(mainWindow!, { title, defaultPath, filters });
    return { path: result.canceled ? null : (result.filePath ?? null) };
  },
  async 'shell.showItem'({ path }) {
    if (!isAbsolute(path) || !existsSync(path)) throw new SortaError('not-found', `${path} does not exist.`);
    shell.showItemInFolder(path);
    return null;
  },
};

async function call(method: MethodName, input: unknown): Promise<Reply> {
  if (method in dialogHandlers) {
    try {
      const handler = dialogHandlers[method as DialogMethod] as (input: unknown) => Promise<unknown>;
      return { ok: true, value: await handler(input) };
    } catch (error) {
      return { ok: false, error: serializeError(error) };
    }
  }
  if (!core) return { ok: false, error: { code: 'internal', message: 'Sorta is still starting.' } };
  return core.call(method, input);
}

/** Applied to every WebContents the app ever creates: no navigation, no pop-ups, no <webview>. */
function lockDown(contents: WebContents): void {
  contents.on('will-navigate', (event, url) => {
    if (url !== contents.getURL()) event.preventDefault();
  });
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}

function createWindow(): void {
  const userData = app.getPath('userData');
  const state = loadWindowState(userData);
  mainWindow = new BrowserWindow({
    ...(state.centre ? { width: state.bounds.width, height: state.bounds.height } : state.bounds),
    minWidth: 720,
    minHeight: 480,
    show: false,
    title: 'Sorta',
    webPreferences: {
      preload: PRELOAD,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      spellcheck: false,
    },
  });
  if (state.maximized) mainWindow.maximize();
  trackWindowState(mainWindow, userData);
  mainWindow.once('ready-to-show', () => mainWindow?.show());
  mainWindow.on('closed', () => {
    mainWindow = null;
  });
  void mainWindow.loadURL(APP_URL);
}

app.on('web-contents-created', (_event, contents) => lockDown(contents));

app.on('second-instance', () => {
  if (!mainWindow) return;
  if (mainWindow.isMinimized()) mainWindow.restore();
  mainWindow.focus();
});

void app.whenReady().then(() => {
  if (!isFirstInstance) return;
  const ses = session.defaultSession;
  ses.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
  ses.setDevicePermissionHandler(() => false);
  ses.webRequest.onHeadersReceived((details, callback) => {
    callback({
      responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] },
    });
  });

  core = new CoreProcess(sendEvent);
  handleProtocols(RENDERER_DIR, core);
  registerIpc(ipcMain, { isTrustedSender, call });
  refreshMenu();
  createWindow();

  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

let quitting = false;
app.on('before-quit', (event) => {
  if (quitting || !core) return;
  event.preventDefault();
  quitting = true;
  void core.stop().finally(() => app.quit());
});

/** The native menu. Items that need the UI send `menu.command` events; recent projects open directly. */
import { app, Menu, type MenuItemConstructorOptions } from 'electron';
import type { MenuCommand, RecentProject } from '../contract/index.js';

export interface MenuActions {
  command(command: MenuCommand): void;
  openRecent(path: string): void;
  recent(): RecentProject[];
}

export function buildMenu(actions: MenuActions): Menu {
  const isMac = process.platform === 'darwin';
  const item = (label: string, command: MenuCommand, accelerator?: string): MenuItemConstructorOptions => ({
    label,
    accelerator,
    click: () => actions.command(command),
  });
  const recent = actions.recent().filter((entry) => entry.exists);
  const template: MenuItemConstructorOptions[] = [
    ...(isMac ? [{ role: 'appMenu' as const }] : []),
    {
      label: '&File',
      submenu: [
        item('New Project…', 'project.new', 'CmdOrCtrl+N'),
        item('Open Project…', 'project.open', 'CmdOrCtrl+O'),
        {
          label: 'Open Recent',
          enabled: recent.length > 0,
          submenu: recent.map((entry) => ({
            label: entry.path,
            click: () => actions.openRecent(entry.path),
          })),
        },
        { type: 'separator' },
        item('Import Folder…', 'import.folder', 'CmdOrCtrl+I'),
        { type: 'separator' },
        item('Close Project', 'project.close', 'CmdOrCtrl+W'),
        ...(isMac ? [] : [{ type: 'separator' as const }, { role: 'quit' as const }]),
      ],
    },
    {
      label: '&Edit',
      submenu: [
        // Label undo/redo is the app's own history (persistent, in the project); text fields keep theirs.
        item('Undo Label', 'labels.undo', 'CmdOrCtrl+Z'),
        item('Redo Label', 'labels.redo', isMac ? 'Shift+Cmd+Z' : 'Ctrl+Y'),
        { type: 'separator' },
        { role: 'cut' },
        { role: 'copy' },
        { role: 'paste' },
        { role: 'selectAll' },
      ],
    },
    {
      label: '&View',
      submenu: [
        item('Label', 'view.label', 'CmdOrCtrl+1'),
        item('Train', 'view.train', 'CmdOrCtrl+2'),
        item('Classify && Sort', 'view.sort', 'CmdOrCtrl+3'),
        { type: 'separator' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { role: 'togglefullscreen' },
        ...(app.isPackaged ? [] : [{ type: 'separator' as const }, { role: 'toggleDevTools' as const }]),
      ],
    },
    { role: 'windowMenu' },
  ];
  return Menu.buildFromTemplate(template);
}

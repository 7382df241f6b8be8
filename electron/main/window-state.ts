/** The window's size, position and maximised state, remembered across runs in the user data folder. */
import { screen, type BrowserWindow, type Rectangle } from 'electron';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface WindowState {
  bounds: Rectangle;
  maximized: boolean;
}

const DEFAULT_STATE: WindowState = { bounds: { x: 0, y: 0, width: 1280, height: 820 }, maximized: false };

function file(userDataDir: string): string {
  return join(userDataDir, 'window-state.json');
}

/** The saved state when it still fits on a connected display; else a centred default. */
export function loadWindowState(userDataDir: string): WindowState & { centre: boolean } {
  try {
    const saved = JSON.parse(readFileSync(file(userDataDir), 'utf8')) as WindowState;
    const { x, y, width, height } = saved.bounds;
    if ([x, y, width, height].every(Number.isFinite) && width >= 400 && height >= 300) {
      const area = screen.getDisplayMatching(saved.bounds).workArea;
      const visible =
        x < area.x + area.width - 50 &&
        x + width > area.x + 50 &&
        y >= area.y - 10 &&
        y < area.y + area.height - 50;
      if (visible) return { bounds: saved.bounds, maximized: Boolean(saved.maximized), centre: false };
    }
  } catch {
    // No saved state yet, or an unreadable one: start from the default.
  }
  return { ...DEFAULT_STATE, centre: true };
}

export function trackWindowState(window: BrowserWindow, userDataDir: string): void {
  const save = () => {
    if (window.isDestroyed()) return;
    const state: WindowState = { bounds: window.getNormalBounds(), maximized: window.isMaximized() };
    try {
      mkdirSync(dirname(file(userDataDir)), { recursive: true });
      writeFileSync(`${file(userDataDir)}.tmp`, JSON.stringify(state));
      renameSync(`${file(userDataDir)}.tmp`, file(userDataDir));
    } catch {
      // Losing the window position is not worth an error.
    }
  };
  window.on('close', save);
}

/** The Label screen's keyboard map, as a pure function of the key event (documented in the README). */
export type LabelAction =
  | { kind: 'assign'; hotkey: number }
  | { kind: 'clear' }
  | { kind: 'move'; delta: 'next' | 'previous' | 'up' | 'down' }
  | { kind: 'preview' }
  | { kind: 'undo' }
  | { kind: 'redo' }
  | { kind: 'select-all' }
  | { kind: 'escape' };

export interface KeyLike {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
}

export function labelAction(event: KeyLike): LabelAction | null {
  const mod = event.ctrlKey || event.metaKey;
  const key = event.key;
  if (mod && !event.altKey) {
    const lower = key.toLowerCase();
    if (lower === 'z') return event.shiftKey ? { kind: 'redo' } : { kind: 'undo' };
    if (lower === 'y') return { kind: 'redo' };
    if (lower === 'a') return { kind: 'select-all' };
    return null;
  }
  if (event.altKey) return null;
  if (/^[1-9]$/.test(key)) return { kind: 'assign', hotkey: Number(key) };
  switch (key) {
    case '0':
    case 'Backspace':
    case 'Delete':
      return { kind: 'clear' };
    case 'ArrowRight':
    case 'j':
    case 'J':
      return { kind: 'move', delta: 'next' };
    case 'ArrowLeft':
    case 'k':
    case 'K':
      return { kind: 'move', delta: 'previous' };
    case 'ArrowDown':
      return { kind: 'move', delta: 'down' };
    case 'ArrowUp':
      return { kind: 'move', delta: 'up' };
    case ' ':
    case 'Enter':
      return { kind: 'preview' };
    case 'Escape':
      return { kind: 'escape' };
    default:
      return null;
  }
}

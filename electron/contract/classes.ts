import { z } from 'zod';
import { method, noInput, rowId } from './common.js';

export interface ClassInfo {
  id: number;
  name: string;
  /** CSS colour, `#rrggbb`. */
  color: string;
  /** Order in the sidebar; hotkeys 1–9 follow it. */
  position: number;
  /** Images labelled with this class. */
  count: number;
}

const className = z.string().trim().min(1).max(200);
const color = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'colours are #rrggbb');

export const classMethods = {
  'classes.list': method<ClassInfo[]>()(noInput),
  /** A new class at the end of the list; a colour is chosen when none is given. */
  'classes.create': method<ClassInfo>()(z.strictObject({ name: className, color: color.optional() })),
  'classes.update': method<ClassInfo>()(
    z.strictObject({ id: rowId, name: className.optional(), color: color.optional() }),
  ),
  /** The full list of class ids in their new order. */
  'classes.reorder': method<ClassInfo[]>()(z.strictObject({ ids: z.array(rowId) })),
  /** Moves every label of `sourceId` to `targetId`, then deletes `sourceId`. */
  'classes.merge': method<{ moved: number; classes: ClassInfo[] }>()(
    z.strictObject({ sourceId: rowId, targetId: rowId }),
  ),
  /** Deletes a class and its labels; says how many labels went with it. */
  'classes.delete': method<{ labelsRemoved: number }>()(z.strictObject({ id: rowId })),
};

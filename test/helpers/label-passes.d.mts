export interface PassPosition {
  pass: number;
  next: number;
}
export function batchSize(first: number, maxImage: number): number;
export function passClass(classIds: readonly number[], first: number, pass: number): number;
export function advance(position: PassPosition, maxImage: number): PassPosition;
export function expectedLabels(
  position: PassPosition,
  maxImage: number,
  classIds: readonly number[],
): Map<number, number>;
export function resumePoint(
  maxImage: number,
  classIds: readonly number[],
  labelOf: (imageId: number) => number | undefined,
): PassPosition;

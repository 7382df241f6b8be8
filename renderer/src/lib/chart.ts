/**
 * The y range of a curve chart. Loss curves start far above where they settle (epoch 1 can be ten times the rest),
 * so the top is clipped at 1.5× the 90th percentile: the part that matters stays readable, and the few points
 * above are drawn cut at the top edge (`clipped` says so).
 */
export function chartBounds(values: readonly number[]): { low: number; high: number; clipped: boolean } {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return { low: 0, high: 1, clipped: false };
  const low = Math.min(0, ...finite);
  const max = Math.max(...finite);
  const sorted = [...finite].sort((a, b) => a - b);
  const p90 = sorted[Math.min(sorted.length - 1, Math.floor(0.9 * (sorted.length - 1)))]!;
  const limit = low + (p90 - low) * 1.5;
  const high = finite.length >= 5 && limit < max ? limit : max;
  return { low, high: high === low ? low + 1 : high, clipped: high < max };
}

/**
 * A seeded random source for everything the trainer draws (split, shuffles, flips, dropout seeds, fresh weights),
 * so one seed gives one run. mulberry32: tiny, fast and good enough for shuffling and initialisation.
 */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** 32 uniformly random bits. */
  uint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.uint32() / 4294967296;
  }

  /**
   * An inverted-dropout mask for rate 0.5: each value is 0 or 2 with equal probability (kept values are scaled by
   * 1/(1−0.5)), one random bit per value.
   */
  halfDropoutMask(count: number): Float32Array {
    const mask = new Float32Array(count);
    // Written as IEEE bit patterns (2.0f is 0x40000000): an integer store per value, no branch, no conversion.
    const bits32 = new Uint32Array(mask.buffer);
    for (let i = 0; i < count; i += 32) {
      const bits = this.uint32();
      const end = Math.min(32, count - i);
      for (let b = 0; b < end; b++) bits32[i + b] = ((bits >>> b) & 1) << 30;
    }
    return mask;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** A 31-bit seed for another generator (TF.js random ops take a number). */
  seed(): number {
    return Math.floor(this.next() * 2147483647);
  }

  /** Fisher–Yates, in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }

  /** `count` values uniform in [-bound, bound). */
  uniformArray(count: number, bound: number): Float32Array {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = (this.next() * 2 - 1) * bound;
    return out;
  }
}

/**
 * How much image decoding may run at once, in bytes of memory rather than in images: one 100-megapixel PNG needs
 * as much as a thousand thumbnails' worth of JPEGs, so a count (the pipeline's 16 images, the pool's 2 per core)
 * lets a folder of huge images take gigabytes. Every decode asks for its estimated memory first and waits, first
 * come first served, until it fits; one image larger than the whole budget still runs, alone.
 */

/** Memory that decoding may use at once in this thread's decoders (image pool and pipeline). */
export const DECODE_MEMORY_BUDGET = 256 * 2 ** 20;

/**
 * Estimated bytes per pixel of one decode: the 8-bit RGB(A) output sharp hands back (3–4 bytes), and for images
 * libvips must decode whole before making that output (interlaced PNG, EXIF-rotated photos) the whole decoded image
 * too. Measured (test/store/decode-memory.test.ts): about 6 for interlaced 6000×6000 PNGs decoded to RGB.
 */
export const DECODE_BYTES_PER_PIXEL = 6;

/** Estimated memory to decode one image: its file's bytes (held while decoding) plus its pixels. */
export function decodeCost(width: number, height: number, fileBytes: number): number {
  return Math.max(0, fileBytes) + Math.max(0, width) * Math.max(0, height) * DECODE_BYTES_PER_PIXEL;
}

/** A first-come-first-served weighted semaphore over bytes. */
export class DecodeBudget {
  private used = 0;
  private running = 0;
  private readonly waiting: { cost: number; grant(): void }[] = [];

  constructor(readonly capacity = DECODE_MEMORY_BUDGET) {}

  /** Resolves with a release function once `cost` bytes fit (or nothing else runs). Call release exactly once. */
  acquire(cost: number): Promise<() => void> {
    return new Promise((resolve) => {
      this.waiting.push({ cost: Math.max(0, cost), grant: () => resolve(this.releaser(cost)) });
      this.grant();
    });
  }

  /** Bytes granted now (for tests and diagnostics). */
  get inUse(): number {
    return this.used;
  }

  private releaser(cost: number): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= Math.max(0, cost);
      this.running--;
      this.grant();
    };
  }

  /** Grants waiters in order; the first that does not fit makes the later ones wait too (no starving big images). */
  private grant(): void {
    while (this.waiting.length > 0) {
      const next = this.waiting[0];
      if (this.running > 0 && this.used + next.cost > this.capacity) return;
      this.waiting.shift();
      this.used += next.cost;
      this.running++;
      next.grant();
    }
  }
}

let shared: DecodeBudget | undefined;

/** The budget every decoder of this thread shares (worker threads have their own; the image pool's are gated here). */
export function decodeBudget(): DecodeBudget {
  shared ??= new DecodeBudget();
  return shared;
}

/**
 * The destination folder and CSV path suggested for a classified folder: `<folder>-sorted` and
 * `<folder>-sorted-predictions.csv`. They follow each newly chosen folder, unless the person typed their own.
 */
export interface SortPathFields {
  outDir: string;
  csvPath: string;
}

export function suggestedPaths(dir: string): SortPathFields {
  const outDir = `${dir.replace(/[\\/]+$/, '')}-sorted`;
  return { outDir, csvPath: `${outDir}-predictions.csv` };
}

export class SortPaths {
  #last: SortPathFields = { outDir: '', csvPath: '' };

  /** The fields for `dir`: each one still empty or still our last suggestion gets the new suggestion. */
  follow(dir: string, current: SortPathFields): SortPathFields {
    const next = suggestedPaths(dir);
    const keep = (field: keyof SortPathFields) =>
      current[field].trim() !== '' && current[field] !== this.#last[field];
    const result = {
      outDir: keep('outDir') ? current.outDir : next.outDir,
      csvPath: keep('csvPath') ? current.csvPath : next.csvPath,
    };
    this.#last = next;
    return result;
  }
}

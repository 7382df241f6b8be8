/**
 * Geometry of the virtualised thumbnail grid: fixed-size cells, so any row's position is arithmetic and only the
 * rows in view (plus an overscan margin) are rendered, whatever the number of images.
 */
export interface GridLayout {
  columns: number;
  /** Cells stretch from `minCell` so that the columns fill the width exactly. */
  cellSize: number;
  rowHeight: number;
  rowCount: number;
  totalHeight: number;
}

export interface RowWindow {
  /** First row to render (inclusive). */
  first: number;
  /** Last row to render (exclusive). */
  last: number;
}

export function gridLayout(itemCount: number, width: number, minCell: number, gap: number): GridLayout {
  const columns = Math.max(1, Math.floor((width + gap) / (minCell + gap)));
  const cellSize = Math.max(minCell, Math.floor((width - gap * (columns - 1)) / columns));
  const rowHeight = cellSize + gap;
  const rowCount = Math.ceil(itemCount / columns);
  return { columns, cellSize, rowHeight, rowCount, totalHeight: rowCount * rowHeight };
}

export function visibleRows(
  layout: GridLayout,
  scrollTop: number,
  viewHeight: number,
  overscan: number,
): RowWindow {
  const first = Math.max(0, Math.floor(scrollTop / layout.rowHeight) - overscan);
  const last = Math.min(layout.rowCount, Math.ceil((scrollTop + viewHeight) / layout.rowHeight) + overscan);
  return { first, last: Math.max(first, last) };
}

/** The scrollTop that brings `index` into view, or undefined when it is already fully visible. */
export function scrollToReveal(
  layout: GridLayout,
  index: number,
  scrollTop: number,
  viewHeight: number,
): number | undefined {
  const row = Math.floor(index / layout.columns);
  const top = row * layout.rowHeight;
  const bottom = top + layout.rowHeight;
  if (top < scrollTop) return top;
  if (bottom > scrollTop + viewHeight) return Math.max(0, bottom - viewHeight);
  return undefined;
}

/** Pages (of `pageSize` items) that cover items [start, end). */
export function pagesFor(start: number, end: number, pageSize: number): number[] {
  if (end <= start) return [];
  const pages: number[] = [];
  for (let page = Math.floor(start / pageSize); page <= Math.floor((end - 1) / pageSize); page++)
    pages.push(page);
  return pages;
}

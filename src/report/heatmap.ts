// Minibatch CKA heatmaps as a figure (Nguyen, Raghu and Kornblith 2021's Figure 1 style): one panel per pair of
// models, a's layers up the y axis (input at the bottom), b's along x, linear CKA as colour on [0, 1]. Section 4's
// report draws one per model from the similarity analysis (figure-2-heatmaps); `compare` draws one for two weight files.
import { FIGURE_WIDTH, PRINT_STYLE, type Figure } from './chart';
import { SCHEMA, type Row } from './layers';

/** One panel: a's layers (rows) against b's (columns), values[i][j] (null where a layer is constant). */
export interface HeatmapPanel {
  title: string;
  rowsTitle: string;
  columnsTitle: string;
  layersA: string[];
  layersB: string[];
  values: (number | null)[][];
}

/** With many layers, only the block outputs are labelled (a conv within a block, "….convN", keeps its cell). */
const labelledEvery = (n: number) => (n > 24 ? "test(/[.]conv\\d+$/, datum.label) ? '' : datum.label" : 'datum.label');

/** A figure of heatmap panels, stacked; cells sized so the largest panel is about the page's width. */
export function heatmapFigure(name: string, title: string, caption: string, section: string, panels: HeatmapPanel[]): Figure {
  const widest = Math.max(...panels.map((p) => Math.max(p.layersA.length, p.layersB.length)));
  const cell = Math.max(6, Math.min(28, Math.floor((FIGURE_WIDTH - 140) / widest)));
  const charts = panels.map((p) => {
    const rows: Row[] = [];
    p.layersA.forEach((a, i) => p.layersB.forEach((b, j) => rows.push({ a, b, cka: p.values[i]?.[j] ?? null })));
    const fontSize = cell < 10 ? 8 : 11;
    return {
      title: p.title,
      data: { values: rows },
      width: cell * p.layersB.length,
      height: cell * p.layersA.length,
      transform: [{ filter: 'isValid(datum.cka)' }],
      mark: { type: 'rect' as const, tooltip: true },
      encoding: {
        x: { field: 'b', type: 'ordinal' as const, sort: p.layersB, title: p.columnsTitle, axis: { labelFontSize: fontSize, labelAngle: -90, labelExpr: labelledEvery(p.layersB.length) } },
        y: { field: 'a', type: 'ordinal' as const, sort: [...p.layersA].reverse(), title: p.rowsTitle, axis: { labelFontSize: fontSize, labelExpr: labelledEvery(p.layersA.length) } },
        color: { field: 'cka', type: 'quantitative' as const, title: 'Linear CKA', scale: { domain: [0, 1], scheme: 'viridis' } },
      },
    };
  });
  return { name, title, caption, section, spec: { $schema: SCHEMA, config: PRINT_STYLE, vconcat: charts, resolve: { scale: { color: 'shared' } } } };
}

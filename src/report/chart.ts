// What every figure of a report shares: the Figure record, a print style (white, fonts >= 11 px, ~560 px wide), the
// colours of the initialisations (the same init has the same colour in every figure), and summaries over seeds.
import type { Config, TopLevelSpec } from 'vega-lite';

import { meanStd } from '../metrics';
import type { StudyResults } from '../experiments/results';

export interface Figure {
  /** File name (figures/<name>.svg, .png) and the HTML element's id, e.g. "figure-6". */
  name: string;
  title: string;
  caption: string;
  /** The report section it belongs under: the start of a "## " heading of report.md, e.g. "Table 1", "Convergence". */
  section: string;
  spec: TopLevelSpec;
}

export const FIGURE_WIDTH = 560;

// Vega measures text without a font here (0.8 em a character), so chart and axis titles are kept short: a longer
// title widens the figure, and a y-axis title longer than its panel pushes the panel down.
export const PRINT_STYLE: Config = {
  background: 'white',
  padding: 12,
  font: 'DejaVu Sans, Liberation Sans, Arial, sans-serif',
  title: { fontSize: 15, fontWeight: 'bold', anchor: 'start', offset: 12 },
  axis: { labelFontSize: 12, titleFontSize: 13, titleFontWeight: 'normal', titlePadding: 8, gridColor: '#e6e6e6' },
  legend: { labelFontSize: 12, titleFontSize: 12, titleFontWeight: 'normal', labelLimit: 260, titleLimit: 400, symbolSize: 120 },
  header: { labelFontSize: 13, titleFontSize: 13, labelFontWeight: 'bold' },
  text: { fontSize: 11 },
  view: { stroke: '#c8c8c8' },
};

/** The paper's words for an initialisation label of results.json ("transfusion:layer2" -> "Transfused to layer2"). */
export function initName(init: string): string {
  if (init.startsWith('transfusion:')) return `Transfused to ${init.slice('transfusion:'.length)}`;
  const names: Record<string, string> = { random: 'Random init', transfer: 'Transfer', meanvar: 'Mean Var', shuffle: 'Shuffled weights', gabor: 'Gabor conv1', slim: 'Slim' };
  return names[init] ?? init;
}

const INIT_COLOURS: Record<string, string> = {
  random: '#4c78a8',
  transfer: '#e45756',
  meanvar: '#54a24b',
  shuffle: '#b8a52a',
  gabor: '#b279a2',
  slim: '#f58518',
};
// Transfusion depths, shallow to deep, between random's blue and transfer's red.
const DEPTH_COLOURS = ['#72b7b2', '#54a24b', '#b8a52a', '#f58518', '#9d755d', '#b279a2'];
const SPARE_COLOURS = ['#9d755d', '#bab0ac', '#ff9da6', '#eeca3b'];

/** A colour scale over initialisation labels (as initName writes them), in the order given. */
export function initColours(inits: string[]): { domain: string[]; range: string[] } {
  const depths = inits.filter((i) => i.startsWith('transfusion:'));
  const others = inits.filter((i) => !INIT_COLOURS[i] && !i.startsWith('transfusion:'));
  const colour = (i: string) =>
    INIT_COLOURS[i] ?? (i.startsWith('transfusion:') ? DEPTH_COLOURS[depths.indexOf(i) % DEPTH_COLOURS.length] : SPARE_COLOURS[others.indexOf(i) % SPARE_COLOURS.length]);
  return { domain: inits.map(initName), range: inits.map(colour) };
}

export const percent = (auc: number) => 100 * auc;

/** Mean, sample std and extremes over seeds; undefined for no values. */
export function summary(values: number[]): { mean: number; std: number; lo: number; hi: number; min: number; max: number; n: number } | undefined {
  if (!values.length) return undefined;
  const { mean, std, n } = meanStd(values);
  return { mean, std, lo: mean - std, hi: mean + std, min: Math.min(...values), max: Math.max(...values), n };
}

/** The paper's name of a model, from the results' model list. */
export const displayName = (r: StudyResults, model: string) => r.models.find((m) => m.name === model)?.displayName ?? model;

/** Distinct values in first-seen order. */
export const ordered = <T>(values: T[]): T[] => [...new Set(values)];

/**
 * Columns for a legend under a figure, so that it stays within the figure's width. Vega measures text without a font
 * (0.8 em a character at 12 px), so this sizes labels the same way.
 */
export const legendColumns = (labels: string[]) => Math.max(1, Math.min(labels.length, Math.floor(FIGURE_WIDTH / (40 + 9.6 * Math.max(...labels.map((l) => l.length))))));

/** Facet layout: one panel per model, two across when there are several. */
export function panels(count: number, height = 220): { columns: number; width: number; height: number } {
  const columns = count > 1 ? 2 : 1;
  return { columns, width: columns === 1 ? FIGURE_WIDTH - 80 : Math.floor((FIGURE_WIDTH - 120) / 2), height };
}

/** One order for values listed in several orders (each model's stages, shallow to deep): each keeps its place. */
export function mergedOrder(sequences: string[][]): string[] {
  const order: string[] = [];
  for (const sequence of sequences) {
    let at = 0;
    for (const v of sequence) {
      if (!order.includes(v)) order.splice(at, 0, v);
      at = order.indexOf(v) + 1;
    }
  }
  return order;
}

// A study's figures: the Vega-Lite specs that apply to its results (pure), and their rendering, headless, to SVG with
// vega and to PNG from that SVG with sharp. Figure 5's filter grids are PNGs the analysis wrote (see filterImages).
// vega, vega-lite and sharp are loaded when a figure is first rendered: a tool that only trains or compares
// representations does not pay for them (about 200 modules) when it loads the package.
import * as path from 'node:path';

import type { TopLevelSpec } from 'vega-lite';

import type { StudyResults } from '../experiments/results';
import type { Figure } from './chart';
import { aucBars, convergenceCurves, hybridBars, transfusionDepth } from './figures-training';
import { checkpointLines, criticalityLines, interpolationLines, knnLines } from './figures-beyond';
import { initFinalScatter, layerHeatmaps, layerLines, similarityBars } from './figures-section4';

export type { Figure } from './chart';

/** Every figure the results hold the data for, in report order. */
export function studyFigures(r: StudyResults): Figure[] {
  return [aucBars(r), transfusionDepth(r), hybridBars(r), convergenceCurves(r), similarityBars(r), layerHeatmaps(r), layerLines(r), initFinalScatter(r), interpolationLines(r), criticalityLines(r), knnLines(r), checkpointLines(r)].filter(
    (f): f is Figure => f !== undefined,
  );
}

/** Figure 5: the conv1 filter grids the filters analysis wrote, relative to the run directory, with their element ids. */
export function filterImages(r: StudyResults): { id: string; file: string; model: string }[] {
  if (r.representations?.analysis !== 'filters') return [];
  return r.representations.figures.map((file) => {
    const model = path.basename(file, '.png').replace(/^filters-/, '');
    return { id: `figure-5-${model}`, file, model };
  });
}

/**
 * SVG and PNG of a spec. `density` is the PNG's DPI against the SVG's 72 (144: twice the SVG's pixel size). What vega
 * and vega-lite would print (warnings, dataflow errors) is returned instead: a library does not write to the console.
 */
export async function renderFigure(spec: TopLevelSpec, density = 144): Promise<{ svg: string; png: Buffer; warnings: string[] }> {
  const [vega, { compile }, { default: sharp }] = await Promise.all([import('vega'), import('vega-lite'), import('sharp')]);
  const warnings: string[] = [];
  const logger = vega.logger(vega.Warn, undefined, (_method, level, input) => warnings.push(`${level}: ${[...input].join(' ')}`));
  const view = new vega.View(vega.parse(compile(spec, { logger }).spec), { renderer: 'none', logger });
  try {
    const svg = await view.toSVG();
    const png = await sharp(Buffer.from(svg), { density }).png().toBuffer();
    return { svg, png, warnings };
  } finally {
    view.finalize();
  }
}

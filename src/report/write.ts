// A study's report files from its results alone: report.md, runs.csv and curves.csv (for pandas and R),
// figures/<name>.svg and .png, and report.html with every figure inline. Each file is written atomically, so a reader (or a study writing again after its next run) never
// sees a torn file.
import * as fs from 'node:fs';
import * as path from 'node:path';

import type { StudyResults } from '../experiments/results';
import type { StudyReport } from '../experiments/study-options';
import { writeFileAtomic } from '../io/atomic';
import { makeDirectory } from '../io/mkdir';
import { readRegularFile, resolveInside } from '../io/paths';
import { displayName } from './chart';
import { filterImages, renderFigure, studyFigures, type Figure } from './figures';
import { renderHtml, type PageFigure } from './html';
import { renderReport } from './markdown';
import { curvesCsv, runsCsv } from './csv';

/** A filter grid PNG's largest size (they take tens of KB). */
const MAX_FIGURE_BYTES = 64 * 2 ** 20;

export const dataUri = (type: string, data: string | Buffer) => `data:${type};base64,${Buffer.from(data).toString('base64')}`;

/** The SVG's own size (vega writes plain pixel width and height on the root element). */
function svgSize(svg: string): { width?: number; height?: number } {
  const root = /<svg[^>]*>/.exec(svg)?.[0] ?? '';
  const width = Number(/\swidth="([\d.]+)"/.exec(root)?.[1]), height = Number(/\sheight="([\d.]+)"/.exec(root)?.[1]);
  return Number.isFinite(width) && Number.isFinite(height) ? { width, height } : {};
}

/** The PNG's size from its IHDR chunk. */
export const pngSize = (png: Buffer) => (png.length >= 24 && png.toString('ascii', 12, 16) === 'IHDR' ? { width: png.readUInt32BE(16), height: png.readUInt32BE(20) } : {});

/** Figure 5's grids, as the page shows them: the PNG the filters analysis wrote, with what each panel is. */
export function filterFigures(outDir: string, r: StudyResults): Map<string, PageFigure> {
  const figures = new Map<string, PageFigure>();
  for (const { id, file, model } of filterImages(r)) {
    // The file name comes from results.json: it must stay inside the run directory (no "../", no link out of it).
    const at = resolveInside(outDir, file, 'results.json representations.figures', 'ERR_BAD_DATA');
    if (!fs.existsSync(at)) continue;
    const png = readRegularFile(at, 'ERR_BAD_DATA', MAX_FIGURE_BYTES);
    const change = (r.representations?.filters ?? []).filter((f) => f.model === model).map((f) => `${f.init} ${f.relativeChange.toFixed(3)}`);
    figures.set(file, {
      id,
      title: `Figure 5, ${displayName(r, model)}: conv1 filters before and after training`,
      caption:
        'Each panel labelled with its run (random or pretrained initialisation) and moment (at init, trained); each filter scaled ' +
        `to its own range around grey, the three input channels as RGB.${change.length ? ` Relative change ‖W_trained − W_init‖ / ‖W_init‖: ${change.join(', ')}.` : ''}`,
      section: 'Figure 5',
      src: dataUri('image/png', png),
      ...pngSize(png),
    });
  }
  return figures;
}

/**
 * Draws each figure as figures/<name>.svg and .png through `put`, adding vega's warnings ("<figure>: <warning>") to
 * `warnings`, and returns them as the HTML page shows them (the SVG inline, at its own size).
 */
export async function drawFigures(figures: Figure[], put: (relative: string, data: string | Uint8Array) => void, warnings: string[]): Promise<PageFigure[]> {
  const shown: PageFigure[] = [];
  for (const f of figures) {
    const { svg, png, warnings: said } = await renderFigure(f.spec);
    warnings.push(...said.map((w) => `${f.name}: ${w}`));
    put(path.join('figures', `${f.name}.svg`), svg);
    put(path.join('figures', `${f.name}.png`), png);
    shown.push({ id: f.name, title: f.title, caption: f.caption, section: f.section, src: dataUri('image/svg+xml', svg), ...svgSize(svg) });
  }
  return shown;
}

/**
 * Writes report.md, runs.csv, curves.csv, figures/<name>.svg and .png, and report.html into outDir. Returns the paths written and what vega
 * warned of while drawing ("<figure>: <warning>"; none is expected).
 * @param outDir - The run directory (created if missing).
 * @param results - The study's results.
 * @returns The files written, and vega's warnings.
 * @throws ERR_IO when a file cannot be written; ERR_BAD_DATA when results name a figure outside outDir or one that
 *   cannot be read.
 */
export async function writeReport(outDir: string, results: StudyResults): Promise<{ files: string[]; warnings: string[] }> {
  const files: string[] = [], warnings: string[] = [];
  const put = (relative: string, data: string | Uint8Array) => {
    const file = path.join(outDir, relative);
    writeFileAtomic(file, data);
    files.push(file);
  };
  makeDirectory(outDir, 'the report directory');
  const markdown = renderReport(results);
  put('report.md', markdown);
  put('runs.csv', runsCsv(results));
  put('curves.csv', curvesCsv(results));
  const figures = studyFigures(results);
  if (figures.length) fs.mkdirSync(path.join(outDir, 'figures'), { recursive: true });
  const shown = await drawFigures(figures, put, warnings);
  const filters = filterFigures(outDir, results);
  put('report.html', renderHtml(markdown, shown, (src) => filters.get(src)));
  return { files, warnings };
}

/**
 * The report a study writes as it goes (pass it as runStudy's `report`; the library's runStudy does by default):
 * report.md ({@link renderReport}) at every save, the whole report ({@link writeReport}) at the end.
 */
export const studyReport: StudyReport = { markdown: renderReport, write: writeReport };

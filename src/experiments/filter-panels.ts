// Figure 5's filter grids: each model's conv1 filter panels (from the analysis) drawn as figures/filters-<model>.png,
// each panel labelled with its run and moment. A product of the study, as results.json is (it lists them): the
// report only shows them.
import * as fs from 'node:fs';
import * as path from 'node:path';

import type { FilterPanels } from './representations';
import { writeFileAtomic } from '../io/atomic';
import { labelledFilterPng } from '../io/png';

/** Writes one PNG per model under outDir/figures and returns their paths relative to outDir. */
export async function drawFilterPanels(outDir: string, panels: FilterPanels[]): Promise<string[]> {
  const files: string[] = [];
  for (const { model, banks } of panels) {
    const file = path.join('figures', `filters-${model}.png`);
    fs.mkdirSync(path.join(outDir, 'figures'), { recursive: true });
    writeFileAtomic(path.join(outDir, file), await labelledFilterPng(banks));
    files.push(file);
  }
  return files;
}

// The paper's Section 4 experiments end to end on the tiny preset: snapshots, the four analyses, their report tables
// and the filter figure.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { createModel, evaluate, experimentSpec, generateRetina, listModels, runStudy, type StudySpec, studyReport } from '../../src';
import { linearFit, pairKind } from '../../src/experiments/representations';
import { encodePng, filterFigure, labelledFilterPng } from '../../src/io/png';
import { runFixture } from '../helpers/python';
import { tempDir } from '../helpers/tmp';

const dir = tempDir('section4');
const cacheDir = path.join(dir, 'cache');
const spec = (experiment: string): StudySpec => ({ ...experimentSpec(experiment, 'tiny'), models: ['cbr-tiny'], seeds: [0, 1, 2] });

describe('Section 4 experiments', () => {
  it('similarity (Figure 2): every transfer-random and random-random pair at the top two stages', async () => {
    const out = path.join(dir, 'similarity');
    const r = await runStudy(spec('similarity'), { report: studyReport, outDir: out, cacheDir });
    const rep = r.representations!;
    expect(rep.analysis).toBe('similarity');
    expect([...new Set(rep.records.map((x) => x.stage))]).toEqual(['layer3', 'layer4']);
    const kinds = rep.records.filter((x) => x.stage === 'layer3').map(pairKind);
    expect(kinds.filter((k) => k === 'transfer-random')).toHaveLength(9);
    expect(kinds.filter((k) => k === 'random-random')).toHaveLength(3);
    for (const x of rep.records) {
      expect(x.compared).toBe('final');
      expect(x.meanCca).toBeGreaterThan(0);
      expect(x.meanCca).toBeLessThanOrEqual(1);
    }
    // The snapshots are the models: the final one evaluates to the run's recorded AUC.
    const run = r.runs.find((x) => x.init === 'transfer' && x.seed === 1)!;
    const net = createModel('cbr-tiny', { numClasses: 1, seed: 99 });
    await net.loadWeights(path.join(out, run.snapshots!.final));
    const val = await generateRetina({ count: r.spec.task.valSize, size: r.spec.task.imageSize, seed: r.spec.task.seed + 1 });
    expect((await evaluate(net, val)).meanAuc).toBeCloseTo(run.auc, 6);
    [net, val].forEach((h) => h.dispose());
    // Every layer of the first transfer run against every layer of the first random run, by minibatch CKA, drawn.
    const [heatmap] = rep.heatmaps!;
    const layers = listModels().find((m) => m.name === 'cbr-tiny')!.layers;
    expect(heatmap).toMatchObject({ model: 'cbr-tiny', a: { init: 'transfer', seed: 0 }, b: { init: 'random', seed: 0 }, layersA: layers, layersB: layers, images: r.spec.representations!.probeSize });
    expect(heatmap.values.flat()).toHaveLength(layers.length ** 2);
    for (const v of heatmap.values.flat()) expect(v === null || (v > -1 && v <= 1)).toBe(true);
    expect(fs.readFileSync(path.join(out, 'figures', 'figure-2-heatmaps.svg'), 'utf8')).toContain('<svg');
    expect(fs.readFileSync(path.join(out, 'report.html'), 'utf8')).toContain('id="figure-2-heatmaps"');
    const report = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
    expect(report).toContain('## Figure 2: CCA similarity of the top two stages');
    expect(report).toMatch(/\| cbr-tiny \| layer3, layer4 .*\| \d\.\d{3} ± \d\.\d{3} \(n=9\) \| \d\.\d{3} ± \d\.\d{3} \(n=3\) \|/);
  });

  it('layers (Figure 3): each run against its own initialisation at every stage below the head', async () => {
    const r = await runStudy(spec('layers'), { report: studyReport, outDir: path.join(dir, 'layers'), cacheDir });
    const rep = r.representations!;
    const stages = listModels().find((m) => m.name === 'cbr-tiny')!.stages.slice(0, -1);
    expect(rep.records).toHaveLength(6 * stages.length);
    for (const x of rep.records) {
      expect(x.compared).toBe('self');
      expect(x.a).toEqual(x.b);
      expect(x.meanCca).toBeGreaterThan(0.3);  // a few steps move a model little from its initialisation
    }
    expect(fs.readFileSync(path.join(dir, 'layers', 'report.md'), 'utf8')).toMatch(/\| cbr-tiny \| layer1 \| .* \| .* \| -?\d\.\d{3} \|/);
  });

  it('init-vs-final (Figure 4): the same pairs at initialisation and after training, with R² per stage', async () => {
    const r = await runStudy(spec('init-vs-final'), { report: studyReport, outDir: path.join(dir, 'init-vs-final'), cacheDir });
    const rep = r.representations!;
    const init = rep.records.filter((x) => x.compared === 'init'), final = rep.records.filter((x) => x.compared === 'final');
    expect(init).toHaveLength(final.length);
    const layer1 = rep.fits.filter((f) => f.stage === 'layer1');
    expect(layer1.map((f) => [f.pairs, f.n])).toEqual([['transfer-random', 9], ['random-random', 3], ['all', 12]]);
    for (const f of rep.fits) if (f.r2 !== null) expect(f.r2).toBeGreaterThanOrEqual(0), expect(f.r2).toBeLessThanOrEqual(1);
    // The fit is the one of the recorded points.
    const points = init.filter((x) => x.stage === 'layer2').map((x) => [x.meanCca, final.find((y) => y.stage === 'layer2' && JSON.stringify([y.a, y.b]) === JSON.stringify([x.a, x.b]))!.meanCca]);
    expect(rep.fits.find((f) => f.stage === 'layer2' && f.pairs === 'all')!.r2).toBeCloseTo(linearFit(points.map((p) => p[0]), points.map((p) => p[1])).r2!, 12);
    expect(fs.readFileSync(path.join(dir, 'init-vs-final', 'report.md'), 'utf8')).toContain('| cbr-tiny | layer1 | all | 12 |');
  });

  it('filters (Figure 5): conv1 before and after, random and pretrained, as a PNG another decoder reads', async () => {
    const out = path.join(dir, 'filters');
    const r = await runStudy({ ...spec('filters'), seeds: [0] }, { report: studyReport, outDir: out, cacheDir });
    const rep = r.representations!;
    expect(rep.filters.map((f) => f.init)).toEqual(['random', 'transfer']);
    rep.filters.forEach((f) => expect(f.relativeChange).toBeGreaterThan(0));
    expect(rep.figures).toEqual(['figures/filters-cbr-tiny.png']);
    const png = JSON.parse(runFixture('png_read.py', [path.join(out, rep.figures[0])]));
    expect(png.mode).toBe('RGB');
    expect(png.size[0]).toBeGreaterThan(3 * png.size[1]);  // four labelled panels side by side
    expect(fs.readFileSync(path.join(out, 'report.md'), 'utf8')).toContain('![figures/filters-cbr-tiny.png](figures/filters-cbr-tiny.png)');
  });
});

describe('Section 4 helpers', () => {
  it('fits R² by least squares', () => {
    expect(linearFit([1, 2, 3], [2, 4, 6])).toEqual({ r2: 1, slope: 2 });
    expect(linearFit([1, 2, 3, 4], [1, 3, 2, 4]).r2).toBeCloseTo(0.64, 12);  // r = 0.8
    expect(linearFit([1, 1, 1], [1, 2, 3])).toEqual({ r2: null, slope: null });
    expect(linearFit([1, 2], [1, 2])).toEqual({ r2: null, slope: null });
  });

  it('writes PNGs that Pillow decodes to the same pixels, and draws each filter around grey', async () => {
    const file = path.join(dir, 'tiny.png');
    const pixels = Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    fs.writeFileSync(file, await encodePng({ width: 3, height: 2, pixels }));
    expect(JSON.parse(runFixture('png_read.py', [file, 'pixels'])).pixels).toEqual([[255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 20, 30], [40, 50, 60], [70, 80, 90]]);
    // One 1x1 filter per bank, three input channels (-1, 0, 0.5): red darkest, green grey, blue half-bright.
    const image = filterFigure([[{ data: Float32Array.from([-1, 0, 0.5]), shape: [1, 3, 1, 1] }]], { count: 1, columns: 1, scale: 1, gap: 1 });
    const at = ((12 + 1) * image.width + 12 + 1) * 3;
    expect([...image.pixels.subarray(at, at + 3)]).toEqual([1, 128, 192]);
  });

  it('labels each panel of Figure 5 above it, over the same grid of filters', async () => {
    const labels = ['Random, at init', 'Random, trained', 'Pretrained, at init', 'Pretrained, trained'];
    const banks = labels.map((label, i) => ({ data: Float32Array.from({ length: 8 * 3 * 9 }, (_, j) => Math.sin(i + j)), shape: [8, 3, 3, 3], label }));
    const grid = filterFigure([banks]);
    const file = path.join(dir, 'labelled.png');
    fs.writeFileSync(file, await labelledFilterPng(banks));
    const png = JSON.parse(runFixture('png_read.py', [file, 'pixels'])) as { size: number[]; pixels: number[][] };
    const band = png.size[1] - grid.height;
    expect(png.size[0]).toBe(grid.width);
    expect(band).toBeGreaterThanOrEqual(16);
    // Below the band, the grid itself, pixel for pixel.
    expect(png.pixels.slice(band * grid.width).flat()).toEqual([...grid.pixels]);
    // In the band: text over each panel (dark pixels, a few hundred for a dozen letters), white between the panels.
    const panel = (grid.width - 12) / 4;  // each panel with the margin after it
    const dark = (x0: number, x1: number) => png.pixels.slice(0, band * grid.width).filter((_, i) => i % grid.width >= x0 && i % grid.width < x1 && Math.max(...png.pixels[i]) < 128).length;
    for (let k = 0; k < 4; k++) expect(dark(12 + k * panel, 12 + k * panel + panel - 12)).toBeGreaterThan(50);
    for (let k = 0; k <= 4; k++) expect(dark(k * panel, k * panel + 12)).toBe(0);
  });
});

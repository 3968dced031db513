import sharp from 'sharp';

import type { StudyResults } from '../../src/experiments/results';
import { filterImages, renderFigure, studyFigures, type Figure } from '../../src/report/figures';
import { FINDING_OFFSET, FIXTURES, HYBRIDS, LAYERS, SIMILARITY, TABLE1, TRANSFUSION } from '../helpers/results';

/** results.json as a study writes it and a report reads it: through JSON, typed by the parse. */
const load = (experiment: string) => JSON.parse(JSON.stringify(FIXTURES[experiment]())) as StudyResults;
const figure = (r: StudyResults, name: string): Figure => {
  const f = studyFigures(r).find((x) => x.name === name);
  if (!f) throw new Error(`no figure ${name} among ${studyFigures(r).map((x) => x.name).join(', ')}`);
  return f;
};
type Row = Record<string, string | number | boolean | null>;
/** The data rows of a spec (top level, or of the `panel`th of its stacked charts). */
const rows = (f: Figure, panel = 0): Row[] => {
  const s = f.spec as { data?: { values: Row[] }; vconcat?: { data: { values: Row[] } }[] };
  return s.data?.values ?? s.vconcat![panel].data.values;
};
const find = (f: Figure, where: Row, panel = 0): Row[] => rows(f, panel).filter((x) => Object.entries(where).every(([k, v]) => x[k] === v));
const one = (f: Figure, where: Row, panel = 0): Row => {
  const found = find(f, where, panel);
  if (found.length !== 1) throw new Error(`${found.length} rows match ${JSON.stringify(where)} in ${f.name}`);
  return found[0];
};

describe('studyFigures', () => {
  it.each([
    ['table1', ['table-1', 'convergence']],
    ['small-data', ['table-3', 'convergence']],
    ['chexpert', ['table-2', 'convergence']],
    ['meanvar', ['figure-6']],
    ['transfusion', ['figure-7', 'figure-7-curves']],
    ['hybrids', ['figure-8', 'figure-8-curves']],
    ['similarity', ['figure-2']],
    ['layers', ['figure-3']],
    ['init-vs-final', ['figure-4']],
    ['filters', []],
  ])('draws for %s: %j', (experiment, names) => {
    const figures = studyFigures(load(experiment));
    expect(figures.map((f) => f.name)).toEqual(names);
    for (const f of figures) {
      expect(f.title.length).toBeGreaterThan(10);
      expect(f.caption.length).toBeGreaterThan(40);
      // Specs are plain JSON: nothing undefined, no NaN.
      expect(JSON.parse(JSON.stringify(f.spec))).toEqual(f.spec);
      expect(JSON.stringify(f.spec)).not.toMatch(/NaN|Infinity/);
    }
  });

  it('Table 1: AUC mean and ±1 std per model and initialisation, with each run', () => {
    const f = figure(load('table1'), 'table-1');
    for (const [model, name] of [['cbr-small', 'CBR-Small'], ['cbr-tiny', 'CBR-Tiny']])
      for (const [init, label] of [['random', 'Random init'], ['transfer', 'Transfer']]) {
        const { auc, spread } = TABLE1[model][init];
        const bar = one(f, { kind: 'mean', group: name, init: label });
        expect(bar.mean).toBeCloseTo(100 * auc, 10);
        expect(bar.lo).toBeCloseTo(100 * (auc - spread), 10);
        expect(bar.hi).toBeCloseTo(100 * (auc + spread), 10);
        expect(bar.n).toBe(3);
        expect(find(f, { kind: 'run', group: name, init: label })).toHaveLength(3);
      }
    expect(f.section).toBe('Table 1');
    // Chance drawn as a dashed rule at an AUC of 50% (issue 31), inside the bars' scale.
    const layers = (f.spec as { layer: { mark: { type: string; strokeDash?: number[] }; encoding: { y?: { datum?: number; scale?: { domain: number[] } } } }[] }).layer;
    const chance = layers.filter((l) => l.mark.type === 'rule' && l.mark.strokeDash);
    expect(chance).toHaveLength(1);
    expect(chance[0].encoding.y!.datum).toBe(50);
    expect(chance[0].encoding.y!.scale!.domain[0]).toBeLessThanOrEqual(50);
    expect(f.caption).toContain('dashed line is chance');
  });

  it('Table 2: AUC per finding and their mean, a panel per model', () => {
    const f = figure(load('chexpert'), 'table-2');
    const { auc } = TABLE1['cbr-small'].random;
    expect(one(f, { kind: 'mean', model: 'CBR-Small', group: 'Atelectasis', init: 'Random init' }).mean).toBeCloseTo(100 * (auc + FINDING_OFFSET[0]), 10);
    expect(one(f, { kind: 'mean', model: 'CBR-Small', group: 'Mean', init: 'Random init' }).mean).toBeCloseTo(100 * auc, 10);
    expect(find(f, { kind: 'mean' })).toHaveLength(2 * 2 * 6);
    expect((f.spec as { facet: { field: string } }).facet.field).toBe('model');
  });

  it('convergence curves: the mean over seeds at each evaluation, with the band from the lowest to the highest seed', () => {
    const r = load('table1');
    const f = figure(r, 'convergence');
    const last = one(f, { model: 'CBR-Small', init: 'Transfer', step: r.spec.train.steps });
    const { auc, spread } = TABLE1['cbr-small'].transfer;
    expect(last.mean).toBeCloseTo(100 * auc, 10);
    expect(last.min).toBeCloseTo(100 * (auc - spread), 10);
    expect(last.max).toBeCloseTo(100 * (auc + spread), 10);
    expect(find(f, { model: 'CBR-Tiny', init: 'Random init' }).map((x) => x.step)).toEqual([30, 60]);
  });

  it('Figure 6: a curve per model and initialisation, Mean Var included', () => {
    const f = figure(load('meanvar'), 'figure-6');
    expect([...new Set(rows(f).map((x) => `${x.model} ${x.init}`))]).toEqual([
      'ResNet-50 Random init', 'ResNet-50 Transfer', 'ResNet-50 Mean Var', 'ResNet-50 Shuffled weights', 'CBR-Small Random init', 'CBR-Small Transfer', 'CBR-Small Mean Var', 'CBR-Small Shuffled weights',
    ]);
    expect(find(f, { model: 'ResNet-50', init: 'Mean Var' })).toHaveLength(12);  // evaluated every 5 of 60 steps
  });

  it('Figure 7: steps to the threshold per transfused depth, in depth order, with unreached runs marked', () => {
    const r = load('transfusion');
    const f = figure(r, 'figure-7');
    const x = (f.spec as { spec: { layer: { encoding: { x: { sort: string[] } } }[] } }).spec.layer[0].encoding.x.sort;
    expect(x).toEqual(['none', 'conv1', 'layer1', 'layer2', 'layer3', 'all']);
    for (const [init, depth] of [['transfer', 'all'], ['transfusion:layer2', 'layer2']]) {
      const steps = r.runs.filter((x) => x.model === 'resnet50' && x.init === init).map((x) => x.stepsToThreshold!);
      expect(steps.every((s) => s !== null)).toBe(true);
      expect(one(f, { kind: 'mean', model: 'ResNet-50', depth }).mean).toBeCloseTo(steps.reduce((a, b) => a + b, 0) / steps.length, 10);
    }
    // Random init: 0.84 +- 0.03 over three seeds against a threshold of 0.85: two seeds never reach it.
    expect(TRANSFUSION.random.auc).toBeLessThan(r.spec.threshold);
    expect(one(f, { kind: 'never', model: 'CBR-Small', depth: 'none' })).toMatchObject({ label: '2/3 never', value: r.spec.train.steps });
    expect(one(f, { kind: 'mean', model: 'CBR-Small', depth: 'none' }).n).toBe(1);
    expect(find(f, { model: 'CBR-Small', depth: 'conv1' })).toHaveLength(0);
  });

  it('Figure 8: per hybrid, steps to the threshold and final AUC, Slim under ResNet-50', () => {
    const f = figure(load('hybrids'), 'figure-8');
    const steps = 0, auc = 1;
    expect(one(f, { kind: 'mean', group: 'ResNet-50', init: 'Slim' }, auc).mean).toBeCloseTo(100 * HYBRIDS.slim.auc, 10);
    expect(one(f, { kind: 'mean', group: 'ResNet-50', init: 'Slim' }, steps)).toMatchObject({ n: 3 });
    expect(find(f, { kind: 'label', group: 'CBR-LargeW', init: 'Gabor conv1' })).toEqual([expect.objectContaining({ label: '3/3 reached' })]);
    expect(find(f, { group: 'CBR-LargeW', init: 'Slim' })).toHaveLength(0);
  });

  it('Figure 2: per model, the mean over pairs of the top-two-stage CCA, transfer against random and the random baseline', () => {
    const f = figure(load('similarity'), 'figure-2');
    for (const [model, name] of [['resnet50', 'ResNet-50'], ['cbr-small', 'CBR-Small'], ['cbr-tiny', 'CBR-Tiny']]) {
      const transfer = one(f, { kind: 'mean', group: name, comparison: 'Transfer vs random' });
      const random = one(f, { kind: 'mean', group: name, comparison: 'Random vs random' });
      expect(transfer.mean).toBeCloseTo(SIMILARITY[model]['transfer-random'], 10);
      expect(random.mean).toBeCloseTo(SIMILARITY[model]['random-random'], 10);
      expect([transfer.n, random.n]).toEqual([9, 3]);
      // Pairs are 0.01 apart around the mean: the sample std of {-1, 0, 1} x 0.01 is 0.01.
      expect(Number(random.hi) - Number(random.mean)).toBeCloseTo(0.01, 10);
    }
  });

  it('Figure 3: per stage, random init and transfer against their own initialisation, and the difference', () => {
    const f = figure(load('layers'), 'figure-3');
    LAYERS.resnet50.random.forEach((value, k) => {
      const stage = ['conv1', 'layer1', 'layer2', 'layer3', 'layer4'][k];
      expect(one(f, { model: 'ResNet-50', stage, series: 'Random init' }).mean).toBeCloseTo(value, 10);
      expect(one(f, { model: 'ResNet-50', stage, series: 'Transfer − random' }).mean).toBeCloseTo(LAYERS.resnet50.transfer[k] - value, 10);
    });
    expect(one(f, { model: 'CBR-Small', stage: 'layer1', series: 'Transfer' })).toMatchObject({ n: 3 });
    expect(Number(one(f, { model: 'CBR-Small', stage: 'layer1', series: 'Transfer' }).lo)).toBeCloseTo(LAYERS['cbr-small'].transfer[0] - 0.02, 10);
  });

  it('Figure 4: a point per pair and stage, the fitted line and R² per stage from the results', () => {
    const r = load('init-vs-final');
    const f = figure(r, 'figure-4');
    expect(find(f, { kind: 'pair', model: 'ResNet-50', stage: 'conv1' })).toHaveLength(16 + 6);
    for (const fit of r.representations!.fits.filter((x) => x.pairs === 'all')) {
      const name = fit.model === 'resnet50' ? 'ResNet-50' : 'CBR-Small';
      expect(one(f, { kind: 'r2', model: name, stage: fit.stage }).label).toBe(`${fit.stage}: R² ${fit.r2!.toFixed(2)}`);
      const [a, b] = find(f, { kind: 'fit', model: name, stage: fit.stage });
      expect((Number(b.y) - Number(a.y)) / (Number(b.x) - Number(a.x))).toBeCloseTo(fit.slope!, 10);
    }
  });

  it('Figures 3 and 4 draw a stage with fewer than 10 datapoints per neuron hollow, and say so', () => {
    const r = load('init-vs-final');
    expect(figure(r, 'figure-4').caption).not.toContain('Hollow points');
    // The flag where the record has it; older records (no flag) by their datapoints and neurons.
    for (const x of r.representations!.records) if (x.model === 'resnet50' && x.stage === 'conv1') x.reliable = false;
    const f = figure(r, 'figure-4');
    expect(f.caption).toContain('Hollow points: fewer than 10 datapoints per neuron at that stage');
    expect(find(f, { kind: 'pair', model: 'ResNet-50', stage: 'conv1' }).every((x) => x.reliable === false)).toBe(true);
    expect(find(f, { kind: 'pair', model: 'CBR-Small' }).every((x) => x.reliable === true)).toBe(true);
    const layer = (f.spec as unknown as { spec: unknown }).spec as { layer: { mark: { type: string }; encoding?: Record<string, unknown> }[] };
    expect(layer.layer.find((l) => l.mark.type === 'point')!.encoding!.fillOpacity).toEqual({ condition: { test: 'datum.reliable', value: 0.8 }, value: 0 });
    const layers = load('layers');
    const one3 = layers.representations!.records.find((x) => x.model === 'cbr-small' && x.stage === 'layer1')!;
    one3.datapoints = 10 * one3.neurons - 1;
    delete one3.reliable;
    const f3 = figure(layers, 'figure-3');
    expect(f3.caption).toContain('Hollow points');
    expect(one(f3, { model: 'CBR-Small', stage: 'layer1', series: 'Transfer' }).reliable).toBe(false);
    expect(one(f3, { model: 'CBR-Small', stage: 'layer2', series: 'Transfer' }).reliable).toBe(true);
  });

  it('Figure 5: the filter grids the analysis wrote, one per model', () => {
    expect(filterImages(load('filters'))).toEqual([
      { id: 'figure-5-resnet50', file: 'figures/filters-resnet50.png', model: 'resnet50' },
      { id: 'figure-5-cbr-small', file: 'figures/filters-cbr-small.png', model: 'cbr-small' },
    ]);
    expect(filterImages(load('table1'))).toEqual([]);
  });

  it('leaves out a run without a final AUC (NaN, null once through JSON)', () => {
    const r = FIXTURES.hybrids();
    r.runs.find((x) => x.model === 'cbr-largew' && x.init === 'gabor' && x.seed === 2)!.auc = NaN;
    const f = figure(JSON.parse(JSON.stringify(r)) as StudyResults, 'figure-8');
    expect(one(f, { kind: 'mean', group: 'CBR-LargeW', init: 'Gabor conv1' }, 1)).toMatchObject({ n: 2 });
    const table = FIXTURES.table1();
    table.runs[0].auc = NaN;
    expect(one(figure(JSON.parse(JSON.stringify(table)) as StudyResults, 'table-1'), { kind: 'mean', group: 'CBR-Small', init: 'Random init' })).toMatchObject({ n: 2 });
  });

  it('draws an unfinished study from the runs it has, and nothing from none', () => {
    const r = load('transfusion');
    r.runs = r.runs.slice(0, 4);
    expect(studyFigures(r).map((f) => f.name)).toEqual(['figure-7', 'figure-7-curves']);
    expect(studyFigures({ ...load('table1'), runs: [] })).toEqual([]);
  });
});

describe('renderFigure', () => {
  it.each(Object.keys(FIXTURES).filter((e) => e !== 'filters'))('renders the figures of %s to SVG and PNG', async (experiment) => {
    for (const f of studyFigures(load(experiment))) {
      const { svg, png, warnings } = await renderFigure(f.spec);
      expect(warnings).toEqual([]);
      expect(svg).toMatch(/^<svg[^>]* width="\d+(\.\d+)?" height="\d+(\.\d+)?"/);
      expect(svg).toContain('</svg>');
      expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
      const meta = await sharp(png).metadata();
      expect(meta.format).toBe('png');
      // 144 DPI against the SVG's 72: twice the SVG's size, so a 480-640 px figure prints sharp.
      const width = Number(/width="([\d.]+)"/.exec(svg)![1]);
      expect(meta.width).toBeGreaterThanOrEqual(2 * width - 2);
      expect(width).toBeGreaterThanOrEqual(400);
      expect(width).toBeLessThanOrEqual(660);
    }
  });
});

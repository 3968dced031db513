// Figures of the training runs: Tables 1-3 as bar charts, validation curves (Figure 6), steps to the threshold against
// the transfused depth (Figure 7) and per hybrid initialisation (Figure 8). AUC is in per cent, as the tables print it.
import { reportedModel } from '../experiments/architecture';
import type { StudyResults } from '../experiments/results';
import { displayName, FIGURE_WIDTH, initColours, initName, legendColumns, mergedOrder, ordered, percent, PRINT_STYLE, summary, type Figure } from './chart';
import { bars, modelPanels, only, SCHEMA, type Row } from './layers';

const armsOf = (r: StudyResults) => [...new Map(r.runs.map((x) => [`${x.model} ${x.init}`, { model: x.model, init: x.init }])).values()];
const runsOf = (r: StudyResults, arm: { model: string; init: string }) => r.runs.filter((x) => x.model === arm.model && x.init === arm.init);
const thresholdText = (r: StudyResults) => `${percent(r.spec.threshold).toFixed(0)}%`;
// Slim trains its own architecture (resnet50-slim) but is a ResNet-50 initialisation: it is drawn with ResNet-50.
const family = (r: StudyResults, model: string, init: string) => displayName(r, reportedModel(model, init));

/** AUC bars start at 50% (chance) unless a value lies below it. */
const aucBase = (rows: Row[]) => Math.min(50, 10 * Math.floor(Math.min(...rows.map((x) => Number(x.lo ?? x.value ?? 100))) / 10));

/** Table 1 / Table 3 (per model) or Table 2 (per finding, a panel per model) as grouped bars with ±1 std error bars. */
export function aucBars(r: StudyResults): Figure | undefined {
  if (!['table1', 'small-data', 'chexpert'].includes(r.spec.experiment) || !r.runs.length) return undefined;
  const perFinding = r.task.labels.length > 1 && r.runs.some((x) => x.aucs);
  const rows: Row[] = [];
  for (const arm of armsOf(r)) {
    const model = displayName(r, arm.model), init = initName(arm.init);
    for (const group of perFinding ? [...r.task.labels, 'Mean'] : [model]) {
      const points = runsOf(r, arm)
        .map((x) => ({ seed: x.seed, auc: perFinding && group !== 'Mean' ? x.aucs?.[group] : x.auc }))
        .filter((p): p is { seed: number; auc: number } => typeof p.auc === 'number' && Number.isFinite(p.auc));
      const s = summary(points.map((p) => percent(p.auc)));
      if (!s) continue;
      rows.push({ kind: 'mean', model, group, init, mean: s.mean, lo: s.lo, hi: s.hi, n: s.n });
      for (const p of points) rows.push({ kind: 'run', model, group, init, seed: p.seed, value: percent(p.auc) });
    }
  }
  if (!rows.length) return undefined;
  const table = perFinding ? 2 : r.spec.experiment === 'small-data' ? 3 : 1;
  const colour = initColours(ordered(r.runs.map((x) => x.init)));
  const base = aucBase(rows);
  const layer = bars({ x: 'group', xTitle: perFinding ? null : 'Model', slanted: perFinding, colour: { ...colour, title: 'Initialisation' }, yTitle: 'Validation AUC (%)', domain: [base, 100], base, chance: 50 });
  const models = ordered(rows.map((x) => String(x.model)));
  const title = perFinding ? 'Validation AUC per finding' : 'Validation AUC by initialisation';
  return {
    name: `table-${table}`,
    title: `Table ${table} as a chart: validation AUC${perFinding ? ' per finding' : ''}, random init against transfer`,
    caption:
      `Bars: mean over seeds; error bars: ±1 sample standard deviation; dots: single runs. Bars start at ${base}%; the dashed line is chance (an AUC of 50%).` +
      (perFinding ? ' Mean: the mean AUC over the findings of each run.' : ''),
    section: `Table ${table}`,
    spec: perFinding
      ? {
          $schema: SCHEMA, config: PRINT_STYLE, title, data: { values: rows },
          facet: { field: 'model', type: 'nominal', title: null, sort: models }, columns: 1,
          spec: { width: FIGURE_WIDTH - 100, height: 200, layer },
        }
      : { $schema: SCHEMA, config: PRINT_STYLE, title, data: { values: rows }, width: Math.min(FIGURE_WIDTH - 80, 60 + 110 * models.length), height: 300, layer },
  };
}

/** The curve figure's name and place for each experiment. */
function curveName(r: StudyResults): { name: string; title: string; chart: string } {
  switch (r.spec.experiment) {
    case 'meanvar': return { name: 'figure-6', title: 'Figure 6: convergence of random, transfer and Mean Var initialisation, with shuffled pretrained weights', chart: 'Convergence: random, transfer, Mean Var, shuffled' };
    case 'transfusion': return { name: 'figure-7-curves', title: 'Figure 7 (curves): convergence per transfused depth', chart: 'Convergence per transfused depth' };
    case 'hybrids': return { name: 'figure-8-curves', title: 'Figure 8 (curves): convergence of the hybrid initialisations', chart: 'Convergence of the hybrid initialisations' };
    default: return { name: 'convergence', title: 'Validation AUC during training (in the form of Figure 6)', chart: 'Validation AUC during training' };
  }
}

/** Validation AUC against training step per model and initialisation: the mean over seeds, its min-max band. */
export function convergenceCurves(r: StudyResults): Figure | undefined {
  const rows: Row[] = [];
  for (const arm of armsOf(r)) {
    const runs = runsOf(r, arm);
    if (!runs.some((x) => x.curve.filter((p) => p.auc !== null).length > 1)) continue;
    const steps = ordered(runs.flatMap((x) => x.curve.map((p) => p.step))).sort((a, b) => a - b);
    for (const step of steps) {
      const s = summary(runs.map((x) => x.curve.find((p) => p.step === step)?.auc).filter((a): a is number => typeof a === 'number').map(percent));
      if (s) rows.push({ model: family(r, arm.model, arm.init), init: initName(arm.init), step, mean: s.mean, min: s.min, max: s.max, n: s.n });
    }
  }
  if (!rows.length) return undefined;
  const { name, title, chart } = curveName(r);
  const colour = initColours(ordered(r.runs.filter((x) => rows.some((p) => p.init === initName(x.init))).map((x) => x.init)));
  const x = { field: 'step', type: 'quantitative' as const, title: 'Training step', scale: { domain: [0, r.spec.train.steps] } };
  const y = { type: 'quantitative' as const, title: 'Validation AUC (%)', scale: { zero: false } };
  const color = { field: 'init', type: 'nominal' as const, title: 'Initialisation', scale: colour, legend: { orient: 'bottom' as const, columns: legendColumns(colour.domain) } };
  return {
    name,
    title,
    caption:
      `Lines: mean validation AUC over seeds (${r.spec.seeds.length} per arm) at each evaluation, every ${r.spec.train.evalEvery} steps ` +
      `of ${r.spec.train.batchSize} images; ` +
      `bands: the lowest to the highest seed; dashed: the threshold AUC of ${thresholdText(r)} the convergence table counts steps to.`,
    section: 'Convergence',
    spec: modelPanels(chart, rows, {
      layer: [
        { mark: { type: 'line', strokeWidth: 2, point: { size: 30 } }, encoding: { x, y: { ...y, field: 'mean' }, color } },
        { mark: { type: 'area', opacity: 0.18 }, encoding: { x, y: { ...y, field: 'min' }, y2: { field: 'max' }, color } },
        { mark: { type: 'rule', strokeDash: [5, 4], color: '#555' }, encoding: { y: { datum: percent(r.spec.threshold) } } },
      ],
    }),
  };
}

/** Figure 7: steps to the threshold against how deep the pretrained weights reach, a panel per model. */
export function transfusionDepth(r: StudyResults): Figure | undefined {
  if (r.spec.experiment !== 'transfusion') return undefined;
  const depth = (init: string) => (init === 'random' ? 'none' : init === 'transfer' ? 'all' : init.replace(/^transfusion:/, ''));
  const models = ordered(r.runs.map((x) => x.model));
  const order = mergedOrder(models.map((m) => ordered(r.runs.filter((x) => x.model === m).map((x) => depth(x.init)))));
  const budget = r.spec.train.steps;
  const rows: Row[] = [];
  for (const arm of armsOf(r)) {
    const runs = runsOf(r, arm);
    const model = displayName(r, arm.model), d = depth(arm.init);
    const reached = runs.filter((x) => x.stepsToThreshold !== null);
    const s = summary(reached.map((x) => x.stepsToThreshold!));
    if (s) rows.push({ kind: 'mean', model, depth: d, mean: s.mean, lo: Math.max(0, s.lo), hi: s.hi, n: s.n });
    for (const x of reached) rows.push({ kind: 'run', model, depth: d, seed: x.seed, value: x.stepsToThreshold });
    if (reached.length < runs.length) rows.push({ kind: 'never', model, depth: d, value: budget, label: `${runs.length - reached.length}/${runs.length} never` });
  }
  if (!rows.length) return undefined;
  const x = { field: 'depth', type: 'ordinal' as const, sort: order, title: 'Pretrained weights up to (transfused depth)', axis: { labelAngle: 0 } };
  const y = { type: 'quantitative' as const, title: `Steps to AUC ≥ ${thresholdText(r)}`, scale: { domain: [0, budget] } };
  return {
    name: 'figure-7',
    title: 'Figure 7: steps to the threshold AUC against the transfused depth',
    caption:
      `Pretrained weights are loaded up to and including the named stage, the rest initialised at random (none: random init; all: ` +
      `transfer). Line: mean steps to validation AUC ≥ ${thresholdText(r)} over the seeds that reached it; error bars ±1 std; dots: ` +
      `single runs; ✕ at the top, “k/n never”: k of n seeds did not reach it within the ${budget}-step budget. Resolution: the evaluation interval ` +
      `(${r.spec.train.evalEvery} steps).`,
    section: 'Convergence',
    spec: {
      $schema: SCHEMA, config: PRINT_STYLE, title: 'Steps to threshold by transfused depth', data: { values: rows },
      facet: { field: 'model', type: 'nominal', title: null, sort: models.map((m) => displayName(r, m)) }, columns: 1,
      spec: {
        width: FIGURE_WIDTH - 80, height: 200,
        layer: [
          { transform: only('mean'), mark: { type: 'line', color: '#4c78a8', strokeWidth: 2, point: { size: 50, color: '#4c78a8' } }, encoding: { x, y: { ...y, field: 'mean' } } },
          { transform: only('mean'), mark: { type: 'rule', color: '#4c78a8', strokeWidth: 1.5 }, encoding: { x, y: { ...y, field: 'lo' }, y2: { field: 'hi' } } },
          { transform: only('run'), mark: { type: 'point', filled: true, size: 22, color: '#222', opacity: 0.6 }, encoding: { x, y: { ...y, field: 'value' } } },
          { transform: only('never'), mark: { type: 'point', shape: 'cross', size: 110, color: '#d03030', filled: true, opacity: 1, angle: 45 }, encoding: { x, y: { ...y, field: 'value' } } },
          { transform: only('never'), mark: { type: 'text', align: 'center', baseline: 'top', dy: 9, fontSize: 11, color: '#b03030' }, encoding: { x, y: { ...y, field: 'value' }, text: { field: 'label' } } },
        ],
      },
    },
  };
}

/** Figure 8: steps to the threshold and final AUC per hybrid initialisation, grouped by the architecture it builds on. */
export function hybridBars(r: StudyResults): Figure | undefined {
  if (r.spec.experiment !== 'hybrids' || !r.runs.length) return undefined;
  const steps: Row[] = [], aucs: Row[] = [];
  for (const arm of armsOf(r)) {
    const runs = runsOf(r, arm);
    const group = family(r, arm.model, arm.init), init = initName(arm.init);
    const reached = runs.filter((x) => x.stepsToThreshold !== null);
    const s = summary(reached.map((x) => x.stepsToThreshold!));
    if (s) steps.push({ kind: 'mean', group, init, mean: s.mean, lo: Math.max(0, s.lo), hi: s.hi, n: s.n });
    for (const x of reached) steps.push({ kind: 'run', group, init, seed: x.seed, value: x.stepsToThreshold });
    steps.push({ kind: 'label', group, init, value: s ? s.hi : 0, label: `${reached.length}/${runs.length} reached` });
    // A run without a final AUC (NaN in memory, null once through JSON) is left out.
    const scored = runs.filter((x) => typeof x.auc === 'number' && Number.isFinite(x.auc));
    const a = summary(scored.map((x) => percent(x.auc)));
    if (a) aucs.push({ kind: 'mean', group, init, mean: a.mean, lo: a.lo, hi: a.hi, n: a.n });
    for (const x of scored) aucs.push({ kind: 'run', group, init, seed: x.seed, value: percent(x.auc) });
  }
  const colour = { ...initColours(ordered(r.runs.map((x) => x.init))), title: 'Initialisation' };
  const width = FIGURE_WIDTH - 80, base = aucBase(aucs);
  return {
    name: 'figure-8',
    title: 'Figure 8: convergence and final AUC of the hybrid initialisations',
    caption:
      `Top: steps to validation AUC ≥ ${thresholdText(r)} (mean ± 1 std over the seeds that reached it; the label: how many ` +
      `seeds reached it within ${r.spec.train.steps} steps). Bottom: final validation AUC (mean ± 1 std over seeds; bars start at ` +
      `${base}%). Dots: single runs. Slim: ResNet-50's pretrained weights up to layer2, halved random layer3 and layer4; Gabor conv1: ` +
      'synthetic Gabor filters in the first convolution, the rest random.',
    section: 'Convergence',
    spec: {
      $schema: SCHEMA, config: PRINT_STYLE, title: 'Hybrid initialisations',
      vconcat: [
        {
          data: { values: steps }, width, height: 220,
          layer: bars({ x: 'group', xTitle: null, colour, yTitle: `Steps to AUC ≥ ${thresholdText(r)}`, domain: [0, r.spec.train.steps], base: 0, label: true }),
        },
        { data: { values: aucs }, width, height: 220, layer: bars({ x: 'group', xTitle: 'Architecture', colour, yTitle: 'Final AUC (%)', domain: [base, 100], base }) },
      ],
    },
  };
}

// Figures of the analyses beyond the paper (experiments/transfer-analyses.ts): the loss along the line between two
// trained models per pair kind, the AUC left per reset stage, and k-NN AUC per stage.
import type { StudyResults } from '../experiments/results';
import { displayName, type Figure } from './chart';
import { modelPanels, type Row } from './layers';

const PAIR_COLOURS = { domain: ['transfer-transfer', 'random-random', 'transfer-random'], range: ['#4c78a8', '#e45756', '#b279a2'] };
const INIT_COLOURS = { domain: ['Random init', 'Transfer'], range: ['#e45756', '#4c78a8'] };

/** Validation loss along the line between two trained models, one line per pair, a panel per model. */
export function interpolationLines(r: StudyResults): Figure | undefined {
  const records = r.representations?.analysis === 'interpolation' ? (r.representations.interpolation ?? []) : [];
  const rows: Row[] = records.flatMap((x, k) =>
    x.points.filter((p) => p.loss !== null).map((p) => ({ model: displayName(r, x.model), pairs: x.pairs, pair: `${k}`, alpha: p.alpha, loss: p.loss })),
  );
  if (!rows.length) return undefined;
  return {
    name: 'beyond-interpolation',
    title: 'Beyond the paper: validation loss along the line between two trained models',
    caption:
      'Each line is one pair of trained models, theta(alpha) = (1 - alpha) theta_a + alpha theta_b, with BatchNorm\'s statistics ' +
      'recomputed from training images at each point. A hump above the straight line between the ends is a barrier: the two ' +
      'solutions lie in different basins. Neyshabur et al. find none between models fine-tuned from the same pretrained weights.',
    section: 'Beyond the paper: the loss barrier',
    spec: modelPanels('Loss along the interpolation path', rows, {
      mark: { type: 'line', point: true, strokeWidth: 1.5 },
      encoding: {
        x: { field: 'alpha', type: 'quantitative', title: 'alpha (a → b)', scale: { domain: [0, 1] } },
        y: { field: 'loss', type: 'quantitative', title: 'Validation loss', scale: { zero: false } },
        color: { field: 'pairs', type: 'nominal', title: 'Pairs', scale: PAIR_COLOURS, legend: { orient: 'bottom' } },
        detail: { field: 'pair' },
      },
    }),
  };
}

/** Mean validation AUC per stage after that stage alone is re-initialised, random against transfer. */
export function criticalityLines(r: StudyResults): Figure | undefined {
  const records = r.representations?.analysis === 'criticality' ? (r.representations.criticality ?? []) : [];
  const rows: Row[] = [];
  for (const x of records) {
    const init = x.init === 'transfer' ? 'Transfer' : 'Random init';
    for (const s of x.stages) if (s.reinitialised !== null) rows.push({ model: displayName(r, x.model), init, stage: s.stage, auc: s.reinitialised });
  }
  if (!rows.length) return undefined;
  return stageLines(rows, {
    name: 'beyond-criticality',
    title: 'Beyond the paper: AUC with one stage re-initialised',
    caption:
      'Each trained run\'s validation AUC with one stage put back to its initial weights (the others as trained), mean over seeds; ' +
      'a stage where the line stays near the trained AUC did not need its training.',
    section: 'Beyond the paper: which stages matter',
    chart: 'AUC after re-initialising one stage',
    xTitle: 'Stage re-initialised',
    yTitle: 'Validation AUC',
  });
}

/** k-NN AUC per stage, at initialisation (dashed) and trained (solid), random against transfer. */
export function knnLines(r: StudyResults): Figure | undefined {
  const records = r.representations?.analysis === 'knn' ? (r.representations.knn ?? []) : [];
  const rows: Row[] = [];
  for (const x of records)
    for (const s of x.stages)
      if (s.auc !== null)
        rows.push({ model: displayName(r, x.model), init: x.init === 'transfer' ? 'Transfer' : 'Random init', when: x.compared === 'init' ? 'at initialisation' : 'trained', stage: s.stage, auc: s.auc });
  if (!rows.length) return undefined;
  return stageLines(rows, {
    name: 'beyond-knn',
    title: 'Beyond the paper: k-NN AUC from each stage\'s features',
    caption:
      'Validation AUC of a k-NN vote over the training images in each stage\'s pooled features, mean over seeds: dashed at ' +
      'initialisation, solid after training. Transfer at initialisation is what the pretrained features alone give the task.',
    section: 'Beyond the paper: k-NN AUC',
    chart: 'k-NN AUC per stage',
    xTitle: 'Stage',
    yTitle: 'k-NN AUC',
    strokeDash: { field: 'when', type: 'nominal', title: null, scale: { domain: ['trained', 'at initialisation'], range: [[1, 0], [5, 4]] }, legend: { orient: 'bottom' } },
  });
}

/** Mean AUC per stage (rows: model, init, stage, auc), a line per initialisation, a panel per model. */
function stageLines(
  rows: Row[],
  f: Omit<Figure, 'spec'> & { chart: string; xTitle: string; yTitle: string; strokeDash?: Record<string, unknown> },
): Figure {
  const { chart, xTitle, yTitle, strokeDash, ...figure } = f;
  return {
    ...figure,
    spec: modelPanels(chart, rows, {
      mark: { type: 'line', point: true, strokeWidth: 1.5 },
      encoding: {
        x: { field: 'stage', type: 'ordinal', title: xTitle, sort: null },
        y: { aggregate: 'mean', field: 'auc', type: 'quantitative', title: yTitle, scale: { domain: [0, 1] } },
        color: { field: 'init', type: 'nominal', title: null, scale: INIT_COLOURS, legend: { orient: 'bottom' } },
        ...(strokeDash ? { strokeDash } : {}),
      },
    }, { independentX: true }),
  };
}

/** The checkpoints experiment: final AUC of transfer from each pretraining step (the end: transfer), random as a rule. */
export function checkpointLines(r: StudyResults): Figure | undefined {
  if (r.spec.experiment !== 'checkpoints') return undefined;
  const end = r.spec.pretrain.steps;
  const stepOf = (init: string) => (init === 'transfer' ? end : init.startsWith('checkpoint:') ? Number(init.slice('checkpoint:'.length)) : undefined);
  const rows: Row[] = [];
  for (const run of r.runs) {
    if (run.auc === null) continue;
    const step = stepOf(run.init);
    if (step !== undefined) rows.push({ kind: 'transfer', model: displayName(r, run.model), step, auc: run.auc });
    else if (run.init === 'random') rows.push({ kind: 'random', model: displayName(r, run.model), auc: run.auc });
  }
  if (!rows.some((x) => x.kind === 'transfer')) return undefined;
  return {
    name: 'beyond-checkpoints',
    title: 'Beyond the paper: final AUC against the pretraining step transferred from',
    caption:
      `Each point: the final validation AUC of runs fine-tuned from the pretraining weights after that many of its ${end} steps ` +
      '(mean over seeds; the last point is the transfer arm), a panel per model; the dashed rule is random initialisation. ' +
      'Neyshabur et al. find an early checkpoint can transfer about as well as the final one.',
    section: 'Convergence',
    spec: modelPanels('AUC against the pretraining checkpoint', rows, {
      layer: [
        { transform: [{ filter: "datum.kind === 'transfer'" }], mark: { type: 'line', point: true, strokeWidth: 1.5, color: '#4c78a8' }, encoding: { x: { field: 'step', type: 'quantitative', title: 'Pretraining step' }, y: { aggregate: 'mean', field: 'auc', type: 'quantitative', title: 'Final AUC', scale: { zero: false } } } },
        { transform: [{ filter: "datum.kind === 'random'" }], mark: { type: 'rule', strokeDash: [5, 4], color: '#e45756' }, encoding: { y: { aggregate: 'mean', field: 'auc', type: 'quantitative' } } },
      ],
    }),
  };
}

// Beyond the paper's tables for report.md (experiments/transfer-analyses.ts), from results.json alone: the barrier
// per pair kind (interpolation), the AUC left per reset stage (criticality), k-NN AUC per stage (knn).
import { meanStd } from '../metrics';
import type { RepresentationResults } from '../experiments/representations';
import { CRITICALITY_SETTINGS, INTERPOLATION_BN, KNN_SETTINGS } from '../experiments/transfer-analyses';

/** mean ± std (n=...) over the values that are there (null: none, left out); — where none is. Section 4's tables too. */
export const cell = (values: (number | null)[], digits = 3): string => {
  const v = values.filter((x): x is number => x !== null && Number.isFinite(x));
  if (!v.length) return '—';
  const { mean, std, n } = meanStd(v);
  return `${mean.toFixed(digits)} ± ${std.toFixed(digits)} (n=${n})`;
};
const ordered = <T>(values: T[]) => [...new Set(values)];

function interpolationTable(r: RepresentationResults): string[] {
  const records = r.interpolation ?? [];
  const lines = [
    '## Beyond the paper: the loss barrier between trained models (Neyshabur et al. 2020)',
    '',
    '| Model | Pairs | Loss barrier | AUC barrier | Loss at the midpoint | AUC at the midpoint |',
    '|---|---|---|---|---|---|',
  ];
  for (const model of ordered(records.map((x) => x.model)))
    for (const pairs of ['transfer-transfer', 'random-random', 'transfer-random'] as const) {
      const at = records.filter((x) => x.model === model && x.pairs === pairs);
      if (!at.length) continue;
      const mid = (key: 'loss' | 'auc') => at.map((x) => x.points.find((p) => p.alpha === 0.5)?.[key] ?? null);
      lines.push(`| ${model} | ${pairs} | ${cell(at.map((x) => x.barrier.loss))} | ${cell(at.map((x) => x.barrier.auc))} | ${cell(mid('loss'))} | ${cell(mid('auc'))} |`);
    }
  const bn = records[0]?.bnImages;
  lines.push(
    '',
    'Each pair of trained models (consecutive transfer seeds, consecutive random seeds, transfer and random of one seed) is ' +
      'evaluated on the validation set at 11 points of the straight line between them. Loss barrier: the largest rise of the ' +
      'loss above the line joining the ends; AUC barrier: the largest drop below it; mean ± std over pairs. BatchNorm\'s ' +
      `running statistics are recomputed at each point from ${bn ?? INTERPOLATION_BN.batches * INTERPOLATION_BN.batchSize} training images. ` +
      'Neyshabur et al. find no barrier between models fine-tuned from the same pretrained weights, and one between models ' +
      'trained from random initialisation.',
    '',
  );
  return lines;
}

function criticalityTable(r: RepresentationResults): string[] {
  const records = r.criticality ?? [];
  const arm = (name: string) => `${name}: trained AUC | ${name}: stage re-initialised | ${name}: re-randomised | ${name}: path alpha | ${name}: log10(1 + criticality)`;
  const lines = [
    '## Beyond the paper: which stages matter (re-initialisation, re-randomisation, module criticality)',
    '',
    `| Model | Stage | ${arm('Random')} | ${arm('Transfer')} |`,
    `|---|---|${'---|'.repeat(10)}`,
  ];
  for (const model of ordered(records.map((x) => x.model))) {
    const mine = records.filter((x) => x.model === model);
    for (const stage of ordered(mine.flatMap((x) => x.stages.map((s) => s.stage)))) {
      const of = (init: string) => {
        const runs = mine.filter((x) => x.init === init);
        const at = runs.map((x) => x.stages.find((s) => s.stage === stage));
        const critical = at.map((s) => (s && s.criticality !== null ? Math.log10(1 + s.criticality) : null));
        return [cell(runs.map((x) => x.auc)), cell(at.map((s) => s?.reinitialised ?? null)), cell(at.map((s) => s?.rerandomised ?? null)), cell(at.map((s) => s?.pathAlpha ?? null), 2), cell(critical, 2)];
      };
      lines.push(`| ${model} | ${stage} | ${of('random').join(' | ')} | ${of('transfer').join(' | ')} |`);
    }
  }
  const evaluations = records.reduce((n, x) => n + (x.evaluations ?? 0), 0);
  lines.push(
    '',
    'Each trained run\'s validation AUC with one stage at a time put back to its weights at initialisation (BatchNorm ' +
      'statistics included: re-initialised) or re-drawn under another seed (re-randomised), the other stages as trained; ' +
      'mean ± std over seeds. A stage whose reset keeps the AUC did not need its training. Path alpha: the smallest alpha at ' +
      'which the stage\'s weights (1 - alpha) theta_init + alpha theta_trained keep the AUC within 0.01 of the trained AUC (0: ' +
      'the initial weights do; near 1: the stage needs its training). Module criticality (Chatterji, Neyshabur and Sedghi ' +
      '2020): the smallest (alpha / sigma)^2 ||theta_trained - theta_init||^2 over alpha in 0, 0.1, ..., 1 and sigma geometric ' +
      'from 1e-4 to 1e-1 such that the stage at alpha plus Gaussian noise of standard deviation sigma keeps the mean ' +
      `training loss (on ${records[0]?.lossImages ?? 'the'} training images) of ${records[0]?.samples ?? CRITICALITY_SETTINGS.samples} draws within 1.01 times the trained loss; shown as log10(1 + criticality), 0 where the initial ` +
      `weights keep the loss (${evaluations} perturbed evaluations in all). Neyshabur et al. find lower stages less critical ` +
      'than higher ones, and transferred models more robust to re-initialisation.',
    '',
  );
  return lines;
}

function knnTable(r: RepresentationResults): string[] {
  const records = r.knn ?? [];
  const lines = [
    '## Beyond the paper: k-NN AUC from each stage\'s features (Matsoukas et al. 2022)',
    '',
    '| Model | Stage | Random at init | Random trained | Transfer at init | Transfer trained |',
    '|---|---|---|---|---|---|',
  ];
  for (const model of ordered(records.map((x) => x.model))) {
    const mine = records.filter((x) => x.model === model);
    for (const stage of ordered(mine.flatMap((x) => x.stages.map((s) => s.stage)))) {
      const of = (init: string, compared: string) => cell(mine.filter((x) => x.init === init && x.compared === compared).map((x) => x.stages.find((s) => s.stage === stage)?.auc ?? null));
      lines.push(`| ${model} | ${stage} | ${of('random', 'init')} | ${of('random', 'final')} | ${of('transfer', 'init')} | ${of('transfer', 'final')} |`);
    }
  }
  lines.push(
    '',
    `Each validation image is classified by its ${records[0]?.k ?? KNN_SETTINGS.k} most cosine-similar training images in a stage's ` +
      `features (pooled over positions), weighted exp(similarity / ${KNN_SETTINGS.temperature}); AUC of the weighted positive share, ` +
      'mean ± std over seeds. Transfer at init is what ImageNet-style features give the task with no training on it; the ' +
      'paper\'s claim is that this feature reuse matters little for small medical tasks, Matsoukas et al. that it matters where ' +
      'the pretrained features already separate the task.',
    '',
  );
  for (const s of r.skipped) lines.push(`- Left out: ${s.model} ${s.stage}: ${s.reason}.`);
  if (r.skipped.length) lines.push('');
  return lines;
}

/** The table of an analysis beyond the paper, or undefined for Section 4's own. */
export function transferSection(r: RepresentationResults): string[] | undefined {
  if (r.analysis === 'interpolation') return interpolationTable(r);
  if (r.analysis === 'criticality') return criticalityTable(r);
  if (r.analysis === 'knn') return knnTable(r);
  return undefined;
}

// Typed results.json fixtures for the report tests: one study per experiment at the quick preset's scale, shaped as
// runStudy writes them. Values are laid out so a figure's numbers are known: over seeds, a run's value is its arm's
// mean plus a symmetric offset (-d, 0, +d), so the mean is the arm's value and the sample std is d.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { experimentSpec } from '../../src/experiments/catalog';
import { snapshotPath } from '../../src/experiments/rundir';
import { linearFit, pairKind, type InitFinalFit, type RepresentationResults, type RunRef, type SimilarityRecord } from '../../src/experiments/representations';
import { armsOf } from '../../src/experiments/spec';
import { RESULTS_SCHEMA, type RunRecord, type StudyResults } from '../../src/experiments/results';
import { stepsToAuc } from '../../src/metrics';
import { encodePng, filterFigure, type FilterBank } from '../../src/io/png';
import { parseInit } from '../../src/init/init';
import { architectureFor } from '../../src/experiments/architecture';

const MODELS: Record<string, { displayName: string; numel: number; paper: number; stages: string[] }> = {
  'cbr-larget': { displayName: 'CBR-LargeT', numel: 8539173, paper: 8532480, stages: ['layer1', 'layer2', 'layer3', 'layer4'] },
  'cbr-largew': { displayName: 'CBR-LargeW', numel: 8443461, paper: 8432128, stages: ['layer1', 'layer2', 'layer3', 'layer4'] },
  'cbr-small': { displayName: 'CBR-Small', numel: 2114341, paper: 2108672, stages: ['layer1', 'layer2', 'layer3', 'layer4'] },
  'cbr-tiny': { displayName: 'CBR-Tiny', numel: 1079845, paper: 1076480, stages: ['layer1', 'layer2', 'layer3', 'layer4'] },
  resnet50: { displayName: 'ResNet-50', numel: 23518277, paper: 23570408, stages: ['conv1', 'layer1', 'layer2', 'layer3', 'layer4'] },
  'resnet50-slim': { displayName: 'Slim (ResNet-50, halved layer3/layer4)', numel: 7140421, paper: 7140421, stages: ['conv1', 'layer1', 'layer2', 'layer3', 'layer4'] },
};
export const CHEST_FINDINGS = ['Atelectasis', 'Cardiomegaly', 'Consolidation', 'Edema', 'Pleural Effusion'];

/** The offset of a seed among n: symmetric about 0 in steps of 1. */
export const offset = (seed: number, n: number) => seed - (n - 1) / 2;
/** A deterministic value in [-0.5, 0.5) for index i. */
const noise = (i: number) => ((i * 2654435761) % 1000) / 1000 - 0.5;

/** Each arm's final AUC (mean over seeds), its spread d, and how fast it converges (steps to ~63% of the way). */
export interface ArmValues { auc: number; spread: number; tau: number }

function run(r: StudyResults, model: string, init: string, seed: number, v: ArmValues, extra: Partial<RunRecord> = {}): RunRecord {
  const { steps, evalEvery, batchSize } = r.spec.train;
  const auc = v.auc + v.spread * offset(seed, r.spec.seeds.length);
  const at = (step: number) => 0.5 + ((auc - 0.5) * (1 - Math.exp(-step / v.tau))) / (1 - Math.exp(-steps / v.tau));
  const evaluated = evalEvery > 0 ? Array.from({ length: Math.floor(steps / evalEvery) }, (_, i) => (i + 1) * evalEvery) : [steps];
  const curve = evaluated.map((step) => ({ step, auc: at(step) }));
  return {
    model, init, seed, auc, stepsToThreshold: stepsToAuc(curve, r.spec.threshold), steps, finalLoss: 0.3 + (1 - auc), wallSeconds: 6 + seed * 0.3,
    imagesPerSecond: (steps * batchSize) / (6 + seed * 0.3), curve, imageSize: r.models.find((m) => m.name === model)!.imageSize,
    ...(init === 'random' ? {} : { load: { init, loaded: 300, fresh: ['fc.weight', 'fc.bias'], from: model === 'resnet50-slim' ? 'resnet50' : model } }),
    ...extra,
  };
}

/** A study of an experiment over its arms (or `models` x random/transfer), before any run. */
function study(experiment: string, models?: string[], seeds?: number[]): StudyResults {
  const spec = experimentSpec(experiment, 'quick');
  if (models) spec.models = models;
  if (seeds) spec.seeds = seeds;
  const trained = [...new Set(armsOf(spec).map((a) => architectureFor(a.model, parseInit(a.init))))];
  const chest = spec.task.source === 'chest';
  return {
    schema: RESULTS_SCHEMA,
    spec,
    environment: { torch: '1.13.0', napi: 8, node: 'v20.20.2', threads: 2, platform: 'linux-x64' },
    startedAt: '2026-11-27T01:27:07.000Z',
    finishedAt: '2026-11-27T01:30:37.000Z',
    models: trained.map((name) => ({ name, displayName: MODELS[name].displayName, params: { numel: MODELS[name].numel, paper: MODELS[name].paper }, imageSize: spec.task.imageSize })),
    task: chest
      ? { labels: CHEST_FINDINGS, trainPositives: 1950, trainSize: spec.task.trainSize, valPositives: 390, valSize: spec.task.valSize, trainPositivesPerLabel: [420, 380, 300, 350, 500], valPositivesPerLabel: [84, 76, 60, 70, 100] }
      : { labels: ['referable DR'], trainPositives: 760, trainSize: spec.task.trainSize, valPositives: 152, valSize: spec.task.valSize },
    pretraining: [...new Set(trained.map((m) => (m === 'resnet50-slim' ? 'resnet50' : m)))].map((model) => ({
      model, source: 'natural', classes: spec.pretrain.classes, top1: 0.182, top5: 0.626, steps: spec.pretrain.steps, wallSeconds: 11.4,
      weights: `/home/user/.cache/transfusion-native/${model}-0123456789abcdef.pt`, cached: false,
    })),
    runs: [],
  };
}

/** Runs for every arm and seed, with each arm's values. */
function train(r: StudyResults, values: (model: string, init: string) => ArmValues, extra?: (model: string, init: string, seed: number) => Partial<RunRecord>): StudyResults {
  for (const arm of armsOf(r.spec)) {
    const model = architectureFor(arm.model, parseInit(arm.init));
    for (const seed of r.spec.seeds) r.runs.push(run(r, model, arm.init, seed, values(model, arm.init), extra?.(model, arm.init, seed)));
  }
  return r;
}

export const TABLE1: Record<string, Record<string, ArmValues>> = {
  'cbr-small': { random: { auc: 0.86, spread: 0.03, tau: 20 }, transfer: { auc: 0.92, spread: 0.01, tau: 10 } },
  'cbr-tiny': { random: { auc: 0.88, spread: 0.02, tau: 20 }, transfer: { auc: 0.93, spread: 0.01, tau: 10 } },
};
export const table1 = () => train(study('table1', ['cbr-small', 'cbr-tiny']), (m, i) => TABLE1[m][i]);
export const smallData = () => train(study('small-data', ['cbr-small', 'cbr-tiny']), (m, i) => TABLE1[m][i]);

/** Per finding: the arm's AUC plus this offset (they sum to 0, so the mean over findings is the arm's AUC). */
export const FINDING_OFFSET = [-0.04, 0.03, -0.02, 0.01, 0.02];
export const chexpert = () =>
  train(study('chexpert', ['cbr-small', 'cbr-tiny']), (m, i) => TABLE1[m][i], (m, i, seed) => {
    const auc = TABLE1[m][i].auc + TABLE1[m][i].spread * offset(seed, 3);
    return { aucs: Object.fromEntries(CHEST_FINDINGS.map((f, k) => [f, auc + FINDING_OFFSET[k]])) };
  });

const MEANVAR: Record<string, ArmValues> = { random: { auc: 0.86, spread: 0.02, tau: 25 }, transfer: { auc: 0.93, spread: 0.01, tau: 8 }, meanvar: { auc: 0.9, spread: 0.015, tau: 14 }, shuffle: { auc: 0.88, spread: 0.02, tau: 18 } };
export const meanvar = () => train(study('meanvar'), (_, i) => MEANVAR[i]);

/** Deeper transfusion converges faster; random init stays around the threshold (0.85), so some of its seeds never reach it. */
export const TRANSFUSION: Record<string, ArmValues> = {
  random: { auc: 0.84, spread: 0.03, tau: 25 },
  'transfusion:conv1': { auc: 0.87, spread: 0.01, tau: 20 },
  'transfusion:layer1': { auc: 0.88, spread: 0.01, tau: 16 },
  'transfusion:layer2': { auc: 0.9, spread: 0.01, tau: 12 },
  'transfusion:layer3': { auc: 0.92, spread: 0.01, tau: 9 },
  transfer: { auc: 0.93, spread: 0.01, tau: 7 },
};
export const transfusion = () => train(study('transfusion'), (_, i) => TRANSFUSION[i]);

export const HYBRIDS: Record<string, ArmValues> = {
  random: { auc: 0.86, spread: 0.02, tau: 22 }, transfer: { auc: 0.93, spread: 0.01, tau: 7 },
  slim: { auc: 0.92, spread: 0.01, tau: 9 }, gabor: { auc: 0.88, spread: 0.02, tau: 16 },
};
export const hybrids = () => train(study('hybrids'), (_, i) => HYBRIDS[i]);

/** A Section 4 study: random and transfer per model, snapshots kept, and the analysis filled in by `analyse`. */
function section4(experiment: string, models: string[], seeds: number[], analyse: (r: StudyResults, out: RepresentationResults) => void): StudyResults {
  const r = train(study(experiment, models, seeds), (_, i) => (i === 'random' ? TABLE1['cbr-small'].random : TABLE1['cbr-small'].transfer), (m, i, s) => ({
    snapshots: { init: snapshotPath(m, i, s, 'init'), final: snapshotPath(m, i, s, 'final') },
  }));
  const out: RepresentationResults = { analysis: experiment as RepresentationResults['analysis'], probe: r.spec.representations!, records: [], fits: [], filters: [], skipped: [], figures: [] };
  analyse(r, out);
  r.representations = out;
  return r;
}

const record = (model: string, stage: string, compared: SimilarityRecord['compared'], a: RunRef, b: RunRef, meanCca: number): SimilarityRecord => ({
  model, stage, compared, a, b, meanCca: meanCca, svccaMean: Math.min(1, meanCca + 0.05), pwcca: Math.min(1, meanCca + 0.03),
  linearCka: Math.min(1, meanCca + 0.1), datapoints: 20000, neurons: stage === 'conv1' ? 64 : 256,
});

/** Pairs as the analysis lists them: transfer seed with random seed (a: transfer), then random seeds with each other. */
function pairsOf(seeds: number[]): [RunRef, RunRef][] {
  const transfer = seeds.flatMap((t) => seeds.map((s): [RunRef, RunRef] => [{ init: 'transfer', seed: t }, { init: 'random', seed: s }]));
  const random = seeds.flatMap((i) => seeds.filter((j) => j > i).map((j): [RunRef, RunRef] => [{ init: 'random', seed: i }, { init: 'random', seed: j }]));
  return [...transfer, ...random];
}

/** Figure 2's per-model means over pairs: transfer vs random, random vs random. */
export const SIMILARITY: Record<string, { 'transfer-random': number; 'random-random': number }> = {
  resnet50: { 'transfer-random': 0.42, 'random-random': 0.58 },
  'cbr-small': { 'transfer-random': 0.61, 'random-random': 0.64 },
  'cbr-tiny': { 'transfer-random': 0.66, 'random-random': 0.67 },
};
export const similarity = () =>
  section4('similarity', Object.keys(SIMILARITY), [0, 1, 2], (r, out) => {
    for (const model of Object.keys(SIMILARITY)) {
      const pairs = pairsOf(r.spec.seeds);
      for (const kind of ['transfer-random', 'random-random'] as const) {
        const mine = pairs.filter(([a, b]) => pairKind({ a, b }) === kind);
        // Pair k is off the mean by (k - middle) x 0.01; the two stages sit +-0.02 about the pair's value.
        mine.forEach(([a, b], k) => {
          const value = SIMILARITY[model][kind] + (k - (mine.length - 1) / 2) * 0.01;
          out.records.push(record(model, 'layer3', 'final', a, b, value + 0.02), record(model, 'layer4', 'final', a, b, value - 0.02));
        });
      }
    }
  });

/** Figure 3: per stage (input to output), the similarity of a trained model with its own initialisation. */
export const LAYERS: Record<string, { random: number[]; transfer: number[] }> = {
  resnet50: { random: [0.62, 0.55, 0.5, 0.44, 0.38], transfer: [0.93, 0.88, 0.8, 0.7, 0.55] },
  'cbr-small': { random: [0.58, 0.5, 0.45, 0.4], transfer: [0.86, 0.78, 0.66, 0.52] },
};
export const layers = () =>
  section4('layers', Object.keys(LAYERS), [0, 1, 2], (r, out) => {
    for (const model of Object.keys(LAYERS))
      for (const init of ['random', 'transfer'] as const)
        for (const seed of r.spec.seeds)
          MODELS[model].stages.forEach((stage, k) => out.records.push(record(model, stage, 'self', { init, seed }, { init, seed }, LAYERS[model][init][k] + 0.02 * offset(seed, 3))));
  });

/** Figure 4: similarity after training = INIT_FINAL.intercept + slope x at init, plus a little per-pair noise. */
export const INIT_FINAL = { intercept: 0.25, slope: 0.8 };
export const initVsFinal = () =>
  section4('init-vs-final', ['resnet50', 'cbr-small'], [0, 1, 2, 3], (r, out) => {
    let i = 0;
    for (const model of ['resnet50', 'cbr-small']) {
      const fits: InitFinalFit[] = [];
      MODELS[model].stages.forEach((stage, k) => {
        const points: { x: number; y: number; kind: InitFinalFit['pairs'] }[] = [];
        for (const [a, b] of pairsOf(r.spec.seeds)) {
          const kind = pairKind({ a, b }) as 'transfer-random' | 'random-random';
          // Transfer inits share their weights, so a transfer-random pair's similarity at init depends on the random seed only.
          const x = (kind === 'random-random' ? 0.3 + 0.04 * (a.seed + b.seed) : 0.15 + 0.05 * b.seed) + 0.05 * k;
          const y = INIT_FINAL.intercept + INIT_FINAL.slope * x + 0.12 * noise(i++);
          out.records.push(record(model, stage, 'init', a, b, x), record(model, stage, 'final', a, b, y));
          points.push({ x, y, kind });
        }
        for (const pairs of ['transfer-random', 'random-random', 'all'] as const) {
          const chosen = points.filter((p) => pairs === 'all' || p.kind === pairs);
          fits.push({ model, stage, pairs, n: chosen.length, ...linearFit(chosen.map((p) => p.x), chosen.map((p) => p.y)) });
        }
      });
      out.fits.push(...fits);
    }
  });

export const filters = () =>
  section4('filters', ['resnet50', 'cbr-small'], [0], (r, out) => {
    for (const model of ['resnet50', 'cbr-small']) {
      for (const init of ['random', 'transfer']) out.filters.push({ model, init, seed: 0, parameter: model === 'resnet50' ? 'conv1.weight' : 'layer1.0.weight', relativeChange: init === 'random' ? 0.41 : 0.07 });
      out.figures.push(path.join('figures', `filters-${model}.png`));
    }
  });

/** Writes the filter grids a filters study's results name (as the analysis would have) into its run directory. */
export async function writeFilterPngs(dir: string, r: StudyResults): Promise<void> {
  const bank = (seed: number, k: number): FilterBank => ({
    shape: [32, 3, k, k],
    data: Float32Array.from({ length: 32 * 3 * k * k }, (_, i) => Math.sin(i * 0.37 + seed) * Math.cos((i % (k * k)) * 0.9 + seed)),
  });
  for (const file of r.representations?.figures ?? []) {
    const k = file.includes('resnet50') ? 7 : 5;
    fs.mkdirSync(path.join(dir, path.dirname(file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), await encodePng(filterFigure([[bank(0, k), bank(1, k), bank(2, k), bank(3, k)]])));
  }
}

/** Every fixture by experiment name. */
export const FIXTURES: Record<string, () => StudyResults> = {
  table1, 'small-data': smallData, chexpert, meanvar, transfusion, hybrids, similarity, layers, 'init-vs-final': initVsFinal, filters,
};

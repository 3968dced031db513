// The paper's Section 4 as analyses of a study's models: each run saved its weights at initialisation and after
// training (snapshots); here they are loaded and compared on a probe set of task images with the batched similarity
// engine, or their conv1 filters taken out for drawing. The analysis returns data; filter-panels.ts draws the filter
// panels it returns as the run's PNGs, which the report then shows.
//   similarity     (Figure 2)  top two stages: transfer-init against random-init models, and random against random;
//                              and per model a minibatch CKA heatmap of every layer, transfer against random
//   layers         (Figure 3)  every stage of each trained model against its own initialisation
//   init-vs-final  (Figure 4)  pairs of models compared at initialisation and after training, per stage, with R²
//   filters        (Figure 5)  conv1 filters before and after training, random and pretrained, as a PNG grid

import type { Dataset } from '../data/embedded';
import { TransfusionError } from '../errors';
import { resolveInside } from '../io/paths';
import { modelNamed, type Model, type ModelInfo } from '../models';
import { minibatchCka } from '../similarity/heatmap';
import { compareModelSet, similarityMetrics, type MetricValues } from '../similarity/similarity';
import { modelOptionsFor } from './architecture';
import { CRITICALITY_SETTINGS, criticalityAnalysis, interpolationAnalysis, knnAnalysis, type CriticalityRecord, type InterpolationRecord, type KnnRecord, type TransferContext } from './transfer-analyses';
import { DEFAULT_REPRESENTATIONS, type RepresentationSettings, type StudySpec } from './spec';
import { taskLabels } from './task';

/** Section 4's analyses: similarity (Figure 2), layers (Figure 3), init-vs-final (Figure 4), filters (Figure 5); and
 * beyond the paper (experiments/transfer-analyses.ts): interpolation, criticality, knn. */
export type Analysis = 'similarity' | 'layers' | 'init-vs-final' | 'filters' | 'interpolation' | 'criticality' | 'knn';
export const ANALYSES: readonly Analysis[] = ['similarity', 'layers', 'init-vs-final', 'filters', 'interpolation', 'criticality', 'knn'];
/** The analyses that go beyond the paper. */
export const BEYOND_ANALYSES: readonly Analysis[] = ['interpolation', 'criticality', 'knn'];

/** A run, as a pair's side: its initialisation and seed. */
export interface RunRef {
  init: string;
  seed: number;
}

/** Every metric of the engine's table that a comparison computes by default, under its name (absent in older records). */
export type RecordMetrics = Partial<Omit<MetricValues, 'ccaCoefficients' | 'meanCca' | 'svccaMean' | 'pwcca' | 'linearCka'>>;

export interface SimilarityRecord extends RecordMetrics {
  model: string;
  stage: string;
  /** final: two runs after training; init: the same two at initialisation; self: a run against its own initialisation. */
  compared: 'final' | 'init' | 'self';
  a: RunRef;
  b: RunRef;
  meanCca: number;
  svccaMean: number;
  pwcca: number;
  linearCka: number;
  datapoints: number;
  neurons: number;
  /** At least 10 datapoints per live neuron of the wider side (absent in older records: see {@link isReliable}). */
  reliable?: boolean;
}

/** Whether a record's CCA can be trusted: its `reliable` flag, or for older records 10 datapoints per neuron. */
export const isReliable = (r: Pick<SimilarityRecord, 'reliable' | 'datapoints' | 'neurons'>) => r.reliable ?? r.datapoints >= 10 * r.neurons;

/** Figure 4's fit: similarity after training against at initialisation, over pairs of one kind. */
export interface InitFinalFit {
  model: string;
  stage: string;
  /** transfer-random, random-random, or all pairs. */
  pairs: 'transfer-random' | 'random-random' | 'all';
  n: number;
  r2: number | null;
  slope: number | null;
}

export interface FilterRecord {
  model: string;
  init: string;
  seed: number;
  parameter: string;
  /** ||W_trained - W_init|| / ||W_init|| of conv1. */
  relativeChange: number;
}

/** Every layer of one trained model against every layer of another by minibatch linear CKA (the similarity analysis). */
export interface HeatmapRecord {
  model: string;
  /** The rows' run (transfer where the study has one) and the columns' (random). */
  a: RunRef;
  b: RunRef;
  layersA: string[];
  layersB: string[];
  /** values[i][j]: a's layer i against b's layer j; null where a layer is constant over the probe. */
  values: (number | null)[][];
  batches: number;
  images: number;
}

export interface RepresentationResults {
  analysis: Analysis;
  probe: RepresentationSettings;
  records: SimilarityRecord[];
  fits: InitFinalFit[];
  filters: FilterRecord[];
  /** Stages left out, and why (too few datapoints for their neurons at this probe size). */
  skipped: { model: string; stage: string; reason: string }[];
  /** The similarity analysis's heatmaps, one per model (absent in results written before them). */
  heatmaps?: HeatmapRecord[];
  /** Beyond the paper: the interpolation, criticality and knn analyses' records (each absent elsewhere). */
  interpolation?: InterpolationRecord[];
  criticality?: CriticalityRecord[];
  knn?: KnnRecord[];
  /** Files written under the run directory. */
  figures: string[];
}

/** What analyseRepresentations needs of each training run. */
export interface SnapshotRun {
  model: string;
  init: string;
  seed: number;
  imageSize: number;
  /** Weight files relative to the run directory. */
  snapshots?: { init: string; final: string };
}

export interface AnalysisContext {
  spec: StudySpec;
  outDir: string;
  runs: SnapshotRun[];
  infoOf: (model: string) => ModelInfo;
  /** The probe set at an input size. */
  probeAt: (size: number) => Promise<Dataset>;
  /** The task's training and validation sets at an input size (the analyses beyond the paper). */
  taskAt?: (size: number) => Promise<{ train: Dataset; val: Dataset }>;
  signal?: AbortSignal;
  onProgress?: (what: string) => void;
}

/** A model's conv1 filter banks for Figure 5: random and pretrained runs, each at initialisation and after training. */
export interface FilterPanels {
  model: string;
  /** Left to right; `label` says which run and when ("Pretrained, trained"). */
  banks: { data: Float32Array; shape: number[]; label: string }[];
}

/**
 * Runs the analysis. `results.figures` stays empty: the filter panels come back apart, for the report to draw
 * (drawFilterPanels), which then lists the files it wrote there.
 */
export async function analyseRepresentations(analysis: Analysis, ctx: AnalysisContext): Promise<{ results: RepresentationResults; filterPanels: FilterPanels[] }> {
  const settings = ctx.spec.representations ?? DEFAULT_REPRESENTATIONS;
  const out: RepresentationResults = { analysis, probe: settings, records: [], fits: [], filters: [], skipped: [], figures: [] };
  const filterPanels: FilterPanels[] = [];
  const models = [...new Set(ctx.runs.map((r) => r.model))];
  for (const model of models) {
    const runs = ctx.runs.filter((r) => r.model === model).sort((x, y) => x.seed - y.seed);
    const random = runs.filter((r) => r.init === 'random');
    const transfer = runs.filter((r) => r.init === 'transfer');
    ctx.onProgress?.(`${analysis}: ${model}`);
    if ((BEYOND_ANALYSES as readonly string[]).includes(analysis)) await beyond(analysis, ctx, model, [...random, ...transfer], out);
    else if (analysis === 'filters') out.filters.push(...(await filters(ctx, model, random, transfer, filterPanels)));
    else if (analysis === 'layers') {
      for (const run of runs) out.records.push(...(await compareSnapshots(ctx, settings, model, [run], ['init', 'final'], 'all', [[0, 1]], 'self', out)));
    } else {
      // Pairs over the listed runs: transfer vs random (every combination), random vs random (different seeds).
      const listed = [...random, ...transfer];
      const pairs: [number, number][] = [];
      transfer.forEach((_, t) => random.forEach((_, r) => pairs.push([random.length + t, r])));
      random.forEach((_, i) => random.forEach((_, j) => j > i && pairs.push([i, j])));
      if (!pairs.length) continue;
      if (analysis === 'similarity') {
        out.records.push(...(await compareSnapshots(ctx, settings, model, listed, ['final'], 'top2', pairs, 'final', out)));
        const [a, b] = transfer.length ? [transfer[0], random[0]] : [random[0], random[1]];
        if (a && b) (out.heatmaps ??= []).push(await heatmap(ctx, model, a, b));
      } else {
        const atInit = await compareSnapshots(ctx, settings, model, listed, ['init'], 'all', pairs, 'init', out);
        const atFinal = await compareSnapshots(ctx, settings, model, listed, ['final'], 'all', pairs, 'final', out);
        out.records.push(...atInit, ...atFinal);
        out.fits.push(...initFinalFits(model, atInit, atFinal));
      }
    }
  }
  return { results: out, filterPanels };
}

async function loadSnapshot(ctx: AnalysisContext, run: SnapshotRun, which: 'init' | 'final'): Promise<Model> {
  if (!run.snapshots) throw new TransfusionError('ERR_BAD_DATA', `Run ${run.model} ${run.init} seed ${run.seed} saved no snapshots`);
  const info = ctx.infoOf(run.model);
  const numClasses = taskLabels(ctx.spec.task).length;
  const net = modelNamed(run.model, modelOptionsFor(info, run.imageSize, { numClasses, seed: run.seed, padding: ctx.spec.padding, device: ctx.spec.device }));
  try {
    // The snapshot's name comes from results.json: it must stay inside the run directory.
    const file = resolveInside(ctx.outDir, run.snapshots[which], `results.json run ${run.model} ${run.init} seed ${run.seed} snapshots.${which}`, 'ERR_BAD_DATA');
    await net.loadWeights(file, { strict: true }, { signal: ctx.signal });
    return net;
  } catch (err) {
    net.dispose();
    throw err;
  }
}

/** An analysis beyond the paper for one model's runs, into its field of the results. */
async function beyond(analysis: Analysis, ctx: AnalysisContext, model: string, runs: SnapshotRun[], out: RepresentationResults): Promise<void> {
  if (!ctx.taskAt) throw new TransfusionError('ERR_INVALID_ARG', `The ${analysis} analysis needs the task's training and validation sets`);
  const settings = ctx.spec.representations;
  const criticality = { samples: settings?.criticalitySamples ?? CRITICALITY_SETTINGS.samples, lossImages: settings?.criticalityImages ?? CRITICALITY_SETTINGS.lossImages };
  const tctx: TransferContext<SnapshotRun> = { load: (run, which) => loadSnapshot(ctx, run, which), taskAt: ctx.taskAt, criticality, bnBatches: settings?.interpolationBnBatches, signal: ctx.signal, onProgress: ctx.onProgress };
  if (analysis === 'interpolation') (out.interpolation ??= []).push(...(await interpolationAnalysis(tctx, model, runs)));
  else if (analysis === 'criticality') (out.criticality ??= []).push(...(await criticalityAnalysis(tctx, model, runs)));
  else if ((await ctx.taskAt(runs[0].imageSize)).train.info().task === 'multiclass')
    // k-NN votes per output (binary, multi-label): a user's multiclass set is left out, named, not failed after training.
    out.skipped.push({ model, stage: 'every stage', reason: 'k-NN evaluation scores binary and multi-label tasks, and this task is multiclass' });
  else (out.knn ??= []).push(...(await knnAnalysis(tctx, model, runs)));
}

/** Every layer of a's trained model against every layer of b's, over the probe in minibatches of up to 64 images. */
async function heatmap(ctx: AnalysisContext, model: string, a: SnapshotRun, b: SnapshotRun): Promise<HeatmapRecord> {
  const nets: Model[] = [];
  try {
    for (const run of [a, b]) nets.push(await loadSnapshot(ctx, run, 'final'));
    const probe = await ctx.probeAt(a.imageSize);
    const h = await minibatchCka(nets[0], nets[1], probe, { layers: 'all', batchSize: Math.max(4, Math.min(64, probe.info().count)), signal: ctx.signal });
    const ref = (r: SnapshotRun): RunRef => ({ init: r.init, seed: r.seed });
    return { model, a: ref(a), b: ref(b), layersA: h.stagesA, layersB: h.stagesB, values: h.values, batches: h.batches, images: h.images };
  } finally {
    nets.forEach((n) => n.dispose());
  }
}

/** The model's stages below its head that the probe can support (more datapoints than neurons), the rest recorded. */
function usableStages(net: Model, size: number, probe: number, s: RepresentationSettings, which: 'all' | 'top2', out: RepresentationResults): { stages: string[]; neurons: Record<string, number> } {
  const info = net.info();
  const shapes = net.stageShapes(size);
  const below = info.stages.slice(0, -1);
  const wanted = which === 'top2' ? below.slice(-2) : below;
  const stages: string[] = [];
  const neurons: Record<string, number> = {};
  for (const stage of wanted) {
    const shape = shapes[stage];
    const channels = shape[1];
    const positions = shape.length === 4 ? probe * shape[2] * shape[3] : probe;
    const budget = s.maxDatapoints > 0 ? s.maxDatapoints : Math.max(20000, 10 * channels);
    const datapoints = shape.length === 4 ? Math.min(positions, budget) : probe;
    if (datapoints <= channels) {
      if (!out.skipped.some((x) => x.model === info.name && x.stage === stage))
        out.skipped.push({ model: info.name, stage, reason: `${datapoints} datapoints for ${channels} neurons at ${size} px with ${probe} probe images` });
      continue;
    }
    stages.push(stage);
    neurons[stage] = channels;
  }
  return { stages, neurons };
}

async function compareSnapshots(
  ctx: AnalysisContext,
  s: RepresentationSettings,
  model: string,
  runs: SnapshotRun[],
  which: ('init' | 'final')[],
  stageSet: 'all' | 'top2',
  pairs: [number, number][],
  compared: SimilarityRecord['compared'],
  out: RepresentationResults,
): Promise<SimilarityRecord[]> {
  // Model k is runs[floor(k / which.length)] at which[k % which.length].
  const nets: Model[] = [];
  try {
    for (const run of runs) for (const w of which) nets.push(await loadSnapshot(ctx, run, w));
    const size = runs[0].imageSize;
    const probe = await ctx.probeAt(size);
    const { stages } = usableStages(nets[0], size, probe.info().count, s, stageSet, out);
    if (!stages.length) return [];
    const results = await compareModelSet(nets, probe, pairs, { stages, maxDatapoints: s.maxDatapoints || undefined, seed: s.seed, signal: ctx.signal });
    const ref = (k: number): RunRef => ({ init: runs[Math.floor(k / which.length)].init, seed: runs[Math.floor(k / which.length)].seed });
    // Every metric the table computes by default, read from it: a metric added there reaches results.json as it is.
    const metrics = similarityMetrics().filter((m) => m.byDefault).map((m) => m.name);
    return results.map((r) => ({
      model,
      stage: r.stage,
      compared,
      a: ref(r.pair[0]),
      b: ref(r.pair[1]),
      ...(Object.fromEntries(metrics.map((m) => [m, r[m]])) as Pick<SimilarityRecord, 'meanCca' | 'svccaMean' | 'pwcca' | 'linearCka'> & RecordMetrics),
      datapoints: r.datapoints,
      neurons: Math.min(r.neurons[0] - r.deadNeurons[0], r.neurons[1] - r.deadNeurons[1]),
      reliable: r.reliable,
    }));
  } finally {
    nets.forEach((n) => n.dispose());
  }
}

/** Least-squares line of y on x and its R² (null for fewer than 3 points or no spread in x). */
export function linearFit(x: number[], y: number[]): { r2: number | null; slope: number | null } {
  const n = x.length;
  if (n < 3) return { r2: null, slope: null };
  const mx = x.reduce((a, b) => a + b, 0) / n, my = y.reduce((a, b) => a + b, 0) / n;
  let sxx = 0, syy = 0, sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
    sxy += (x[i] - mx) * (y[i] - my);
  }
  if (sxx === 0) return { r2: null, slope: null };
  return { r2: syy === 0 ? 1 : (sxy * sxy) / (sxx * syy), slope: sxy / sxx };
}

export const pairKind = (r: { a: RunRef; b: RunRef }): 'transfer-random' | 'random-random' | 'other' =>
  r.a.init === 'random' && r.b.init === 'random' ? 'random-random' : [r.a.init, r.b.init].sort().join('-') === 'random-transfer' ? 'transfer-random' : 'other';

function initFinalFits(model: string, atInit: SimilarityRecord[], atFinal: SimilarityRecord[]): InitFinalFit[] {
  const key = (r: SimilarityRecord) => `${r.stage}|${r.a.init}|${r.a.seed}|${r.b.init}|${r.b.seed}`;
  const finals = new Map(atFinal.map((r) => [key(r), r] as const));
  const points = atInit.filter((r) => finals.has(key(r))).map((r) => ({ stage: r.stage, kind: pairKind(r), x: r.meanCca, y: finals.get(key(r))!.meanCca }));
  const fits: InitFinalFit[] = [];
  for (const stage of [...new Set(points.map((p) => p.stage))])
    for (const kind of ['transfer-random', 'random-random', 'all'] as const) {
      const chosen = points.filter((p) => p.stage === stage && (kind === 'all' || p.kind === kind));
      if (!chosen.length) continue;
      fits.push({ model, stage, pairs: kind, n: chosen.length, ...linearFit(chosen.map((p) => p.x), chosen.map((p) => p.y)) });
    }
  return fits;
}

async function filters(ctx: AnalysisContext, model: string, random: SnapshotRun[], transfer: SnapshotRun[], panels: FilterPanels[]): Promise<FilterRecord[]> {
  const records: FilterRecord[] = [];
  const row: FilterPanels['banks'] = [];
  for (const run of [random[0], transfer[0]].filter((r): r is SnapshotRun => r !== undefined)) {
    const banks: FilterPanels['banks'] = [];
    let parameter = '';
    for (const which of ['init', 'final'] as const) {
      const net = await loadSnapshot(ctx, run, which);
      try {
        parameter = net.info().inputConv;
        const t = net.getParameter(parameter);
        banks.push({ data: t.data, shape: t.shape, label: `${run.init === 'random' ? 'Random' : 'Pretrained'}, ${which === 'init' ? 'at init' : 'trained'}` });
      } finally {
        net.dispose();
      }
    }
    let diff = 0, norm = 0;
    banks[0].data.forEach((v, i) => {
      diff += (banks[1].data[i] - v) ** 2;
      norm += v * v;
    });
    records.push({ model, init: run.init, seed: run.seed, parameter, relativeChange: Math.sqrt(diff / norm) });
    row.push(...banks);
  }
  if (row.length) panels.push({ model, banks: row });
  return records;
}

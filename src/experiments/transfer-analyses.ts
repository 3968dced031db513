// Beyond the paper (issue 30), as analyses of a study's trained runs, beside Section 4's: each reads the runs'
// snapshots (weights at initialisation and after training) and the task's training and validation sets.
//   interpolation  Neyshabur et al. 2020: the line between two trained models (transfer-transfer, random-random,
//                  transfer-random), BatchNorm recomputed at each point, and its barrier
//   criticality    each stage of each trained run reset to its initial weights, or re-drawn: the AUC left
//   knn            Matsoukas et al. 2022: k-NN AUC from each stage's pooled features, at initialisation and trained
import { interpolate, knnEvaluate, stageCriticality, type StageReset } from '../analysis/transfer';
import { createDataset, type Dataset } from '../data/embedded';
import type { Model } from '../models';

/** A run, as a pair's side: its initialisation and seed (representations.ts's RunRef). */
export interface RunRef {
  init: string;
  seed: number;
}

/** What these analyses need of the study: its runs' snapshots, loaded (a run as the analysis was given it), and the
 * task's sets at an input size. */
export interface TransferContext<R extends TransferRun = TransferRun> {
  load: (run: R, which: 'init' | 'final') => Promise<Model>;
  taskAt: (size: number) => Promise<{ train: Dataset; val: Dataset }>;
  /** Module criticality's draws per grid point and loss images (default {@link CRITICALITY_SETTINGS}). */
  criticality?: { samples: number; lossImages: number };
  /** Interpolation's BatchNorm minibatches (default {@link INTERPOLATION_BN}'s). */
  bnBatches?: number;
  signal?: AbortSignal;
  onProgress?: (what: string) => void;
}

export interface TransferRun extends RunRef {
  model: string;
  imageSize: number;
}

/** One pair's line (interpolation). */
export interface InterpolationRecord {
  model: string;
  pairs: 'transfer-transfer' | 'random-random' | 'transfer-random';
  a: RunRef;
  b: RunRef;
  points: { alpha: number; loss: number | null; auc: number | null }[];
  bnImages: number;
  barrier: { loss: number | null; auc: number | null };
}

/** One run's stages reset (criticality). */
export interface CriticalityRecord extends RunRef {
  model: string;
  auc: number | null;
  /** The trained model's validation loss, module criticality's reference (absent in results of before it). */
  loss?: number | null;
  /** Perturbed points evaluated for module criticality. */
  evaluations?: number;
  /** Training images module criticality's loss was measured on. */
  lossImages?: number;
  /** Perturbations drawn per grid point (absent in results of before it: 3). */
  samples?: number;
  stages: StageReset[];
}

/** One run's k-NN AUC per stage, at initialisation or trained (knn). */
export interface KnnRecord extends RunRef {
  model: string;
  compared: 'init' | 'final';
  k: number;
  stages: { stage: string; auc: number | null }[];
}

/** BatchNorm's statistics at each point: 8 minibatches of 64 training images (Neyshabur et al. recompute them too). */
export const INTERPOLATION_BN = { batches: 8, batchSize: 64 } as const;
/** k-NN: the InstDisc/MoCo monitor's k and temperature. */
export const KNN_SETTINGS = { k: 200, temperature: 0.1 } as const;
/** Module criticality in the studies, unless the spec's representations say otherwise: 3 perturbations per grid point
 * (Chatterji et al. draw 10, the library's default), the grid searched costing up to 110 points per stage and run; the
 * training loss on 512 training images spread evenly over the set (every evaluation of the grid is one pass over
 * them), or the whole set where it is smaller or multi-label (its masks are not copied). */
export const CRITICALITY_SETTINGS = { samples: 3, lossImages: 512 } as const;

/** `n` images of a binary or multiclass set, evenly spaced through it (a set ordered by class keeps every class), as
 * a Dataset of their own; undefined where the set is no larger or multi-label. */
export function spreadImages(d: Dataset, n: number): Dataset | undefined {
  const info = d.info();
  if (d.count <= n || info.task === 'multilabel') return undefined;
  const images = d.images(), per = images.data.length / d.count, targets = d.targets(), perTarget = targets.length / d.count;
  const data = new Float32Array(n * per), picked = new Float32Array(n * perTarget);
  for (let i = 0; i < n; i++) {
    const j = Math.floor((i * d.count) / n);
    data.set(images.data.subarray(j * per, (j + 1) * per), i * per);
    picked.set(targets.subarray(j * perTarget, (j + 1) * perTarget), i * perTarget);
  }
  return createDataset({ images: { data, shape: [n, ...images.shape.slice(1)] }, targets: picked, task: info.task, outputs: info.outputs, source: info.source });
}

const ref = (r: TransferRun): RunRef => ({ init: r.init, seed: r.seed });

/** Pairs of one model's runs: consecutive transfer seeds, consecutive random seeds, and transfer with random per seed. */
function pairsOf<R extends TransferRun>(runs: R[]): { kind: InterpolationRecord['pairs']; a: R; b: R }[] {
  const of = (init: string) => runs.filter((r) => r.init === init).sort((x, y) => x.seed - y.seed);
  const transfer = of('transfer'), random = of('random');
  const consecutive = (list: R[], kind: InterpolationRecord['pairs']) => list.slice(1).map((b, i) => ({ kind, a: list[i], b }));
  const mixed = transfer.flatMap((a) => random.filter((b) => b.seed === a.seed).map((b) => ({ kind: 'transfer-random' as const, a, b })));
  return [...consecutive(transfer, 'transfer-transfer'), ...consecutive(random, 'random-random'), ...mixed];
}

async function withModels<T>(made: Promise<Model>[], f: (models: Model[]) => Promise<T>): Promise<T> {
  const models: Model[] = [];
  try {
    for (const m of made) models.push(await m);
    return await f(models);
  } finally {
    models.forEach((m) => m.dispose());
  }
}

export async function interpolationAnalysis<R extends TransferRun>(ctx: TransferContext<R>, model: string, runs: R[]): Promise<InterpolationRecord[]> {
  const out: InterpolationRecord[] = [];
  for (const { kind, a, b } of pairsOf(runs)) {
    ctx.onProgress?.(`interpolation: ${model} ${a.init} ${a.seed} - ${b.init} ${b.seed}`);
    const sets = await ctx.taskAt(a.imageSize);
    const line = await withModels([ctx.load(a, 'final'), ctx.load(b, 'final')], ([ma, mb]) =>
      interpolate(ma, mb, sets, { bnBatches: ctx.bnBatches ?? INTERPOLATION_BN.batches, batchSize: INTERPOLATION_BN.batchSize, signal: ctx.signal }),
    );
    out.push({ model, pairs: kind, a: ref(a), b: ref(b), ...line });
  }
  return out;
}

export async function criticalityAnalysis<R extends TransferRun>(ctx: TransferContext<R>, model: string, runs: R[]): Promise<CriticalityRecord[]> {
  const out: CriticalityRecord[] = [];
  for (const run of runs) {
    ctx.onProgress?.(`criticality: ${model} ${run.init} ${run.seed}`);
    const { train, val } = await ctx.taskAt(run.imageSize);
    const { samples, lossImages } = ctx.criticality ?? CRITICALITY_SETTINGS;
    const lossData = spreadImages(train, lossImages);
    try {
      const r = await withModels([ctx.load(run, 'final'), ctx.load(run, 'init')], ([trained, initial]) => stageCriticality(trained, initial, val, { samples, lossData: lossData ?? train, signal: ctx.signal }));
      out.push({ model, ...ref(run), ...r, lossImages: (lossData ?? train).count, samples });
    } finally {
      lossData?.dispose();
    }
  }
  return out;
}

export async function knnAnalysis<R extends TransferRun>(ctx: TransferContext<R>, model: string, runs: R[]): Promise<KnnRecord[]> {
  const out: KnnRecord[] = [];
  for (const run of runs)
    for (const which of ['init', 'final'] as const) {
      ctx.onProgress?.(`knn: ${model} ${run.init} ${run.seed} ${which}`);
      const { train, val } = await ctx.taskAt(run.imageSize);
      const r = await withModels([ctx.load(run, which)], ([m]) => knnEvaluate(m, train, val, { ...KNN_SETTINGS, signal: ctx.signal }));
      out.push({ model, ...ref(run), compared: which, k: r.k, stages: r.stages.map((s) => ({ stage: s.stage, auc: s.meanAuc })) });
    }
  return out;
}

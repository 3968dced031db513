// The paper's experiments as arm lists over a scale preset: `transfusion-native run <experiment> --preset <scale>`.
// Table 1 compares random init with transfer; Section 5's Figures 6-8 compare initialisations by convergence speed.
import type { Arm, Experiment, StudySpec } from './spec';
import { ANALYSES, type Analysis } from './representations';
import { preset, type PresetName } from './presets';
import { TransfusionError } from '../errors';

const arms = (model: string, inits: string[]): Arm[] => inits.map((init) => ({ model, init }));

/** One of the paper's experiments: what it reproduces and how it changes a scale preset. */
export interface ExperimentDefinition {
  /** The experiment's name, as `transfusion-native run <experiment>` takes it. */
  name: Experiment;
  /** The table or figure of the paper it reproduces, e.g. "Table 1", "Figure 7". */
  figure: string;
  /** One line on what it compares. */
  description: string;
  /** Its explicit arms for a spec, or undefined for every model with every initialisation of the spec. */
  arms: (spec: StudySpec) => Arm[] | undefined;
  /** Changes to the scale preset: finer validation curves, the convergence threshold. */
  adjust: (spec: StudySpec) => Partial<StudySpec>;
}

// Convergence experiments evaluate often (steps-to-threshold has the evaluation interval's resolution) on a smaller
// validation set, and use a threshold the small default scale reaches (the paper's 0.91 is a setting: --threshold).
const convergence = (spec: StudySpec): Partial<StudySpec> => ({
  threshold: spec.name === 'paper' ? 0.91 : 0.85,
  task: { ...spec.task, valSize: Math.min(spec.task.valSize, 200) },
  train: { ...spec.train, evalEvery: Math.max(1, Math.round(spec.train.steps / 12)) },
});

// Section 4 compares representations of trained models: every listed model trained from random init and with
// transfer over the seeds (arms follow --models), snapshots kept, then the analysis. No validation curve is needed.
const representations =
  (models: string[], seeds: number[]) =>
  (spec: StudySpec): Partial<StudySpec> => ({
    models,
    inits: ['random', 'transfer'],
    seeds,
    train: { ...spec.train, evalEvery: 0 },
    // The tiny preset is a smoke test: a small probe, module criticality's search (at most 110 grid points per stage
    // and run, each a pass over its loss images per draw: 70 of the tiny reproduction's 92 s) on 64 images with 2
    // draws, and interpolation's BatchNorm recomputed from 2 minibatches (14 s of the rest with 8).
    representations:
      spec.name === 'tiny'
        ? { probeSize: 128, maxDatapoints: 2000, seed: 0, interpolationBnBatches: 2, criticalitySamples: 2, criticalityImages: 64 }
        : { probeSize: 1024, maxDatapoints: 0, seed: 0 },
    why:
      `Section 4 at the ${spec.name} scale: ${spec.task.imageSize} px images, ${spec.train.steps} ${spec.train.optimizer} steps of ` +
      `${spec.train.batchSize} images per run, the embedded ${spec.pretrain.classes}-class natural-image source for pretraining; ` +
      'each run keeps its weights at initialisation and after training for the analysis.',
  });

/** The paper's experiments by name: Table 1-3 (transfer against random) and Figures 2-8 (Sections 4 and 5). */
export const EXPERIMENTS: Record<Experiment, ExperimentDefinition> = {
  table1: {
    name: 'table1',
    figure: 'Table 1',
    description: 'random initialisation against transfer, for each model',
    arms: () => undefined,
    adjust: () => ({}),
  },
  chexpert: {
    name: 'chexpert',
    figure: 'Table 2',
    description: 'random initialisation against transfer on the chest x-ray task, AUC per pathology',
    arms: () => undefined,
    adjust: (spec) => ({
      task: { ...spec.task, source: 'chest', uncertainRate: 0.1 },
      why: `${spec.why} The task: the embedded CheXpert-like chest radiographs, five findings.`,
    }),
  },
  'small-data': {
    name: 'small-data',
    figure: 'Table 3',
    description: 'random initialisation against transfer with little training data',
    arms: () => undefined,
    adjust: (spec) => ({
      task: { ...spec.task, trainSize: spec.name === 'paper' ? 5000 : Math.max(spec.train.batchSize * 4, Math.round(spec.task.trainSize / 10)) },
      why: `${spec.why} Small data: a tenth of the training images (the paper: 5,000).`,
    }),
  },
  meanvar: {
    name: 'meanvar',
    figure: 'Figure 6',
    description: 'convergence of random, transfer, Mean Var (pretrained scaling without the features) and shuffled pretrained weights (their values without their arrangement)',
    arms: () => [...arms('resnet50', ['random', 'transfer', 'meanvar', 'shuffle']), ...arms('cbr-small', ['random', 'transfer', 'meanvar', 'shuffle'])],
    adjust: convergence,
  },
  transfusion: {
    name: 'transfusion',
    figure: 'Figure 7',
    description: 'steps to the threshold AUC against how far the pretrained weights were transfused',
    arms: () => [
      ...arms('resnet50', ['random', 'transfusion:conv1', 'transfusion:layer1', 'transfusion:layer2', 'transfusion:layer3', 'transfer']),
      ...arms('cbr-small', ['random', 'transfusion:layer1', 'transfusion:layer2', 'transfusion:layer3', 'transfer']),
    ],
    adjust: convergence,
  },
  hybrids: {
    name: 'hybrids',
    figure: 'Figure 8',
    description: 'the Slim ResNet and synthetic Gabor conv1 against transfer and random',
    arms: () => [...arms('resnet50', ['random', 'transfer', 'slim', 'gabor']), ...arms('cbr-largew', ['random', 'transfer', 'gabor'])],
    adjust: convergence,
  },
  similarity: {
    name: 'similarity',
    figure: 'Figure 2',
    description: 'CCA of the top two stages: pretrained-init against random-init models, with random against random as baseline',
    arms: () => undefined,
    adjust: representations(['resnet50', 'cbr-larget', 'cbr-largew', 'cbr-small', 'cbr-tiny'], [0, 1, 2]),
  },
  layers: {
    name: 'layers',
    figure: 'Figure 3',
    description: 'per-stage CCA of each trained model with its own initialisation, pretrained and random init',
    arms: () => undefined,
    adjust: representations(['resnet50', 'cbr-larget', 'cbr-largew', 'cbr-small', 'cbr-tiny'], [0, 1, 2]),
  },
  'init-vs-final': {
    name: 'init-vs-final',
    figure: 'Figure 4',
    description: 'CCA of pairs of models at initialisation against after training, per stage, with R²',
    arms: () => undefined,
    adjust: representations(['resnet50', 'cbr-small'], [0, 1, 2, 3]),
  },
  filters: {
    name: 'filters',
    figure: 'Figure 5',
    description: 'conv1 filters before and after training, from random init and pretrained weights',
    arms: () => undefined,
    adjust: representations(['resnet50', 'cbr-small'], [0]),
  },
  interpolation: {
    name: 'interpolation',
    figure: 'Beyond',
    description: 'Neyshabur et al. 2020: loss and AUC along the line between two trained models (transfer-transfer, random-random, transfer-random), and its barrier',
    arms: () => undefined,
    adjust: representations(['resnet50', 'cbr-small'], [0, 1, 2]),
  },
  criticality: {
    name: 'criticality',
    figure: 'Beyond',
    description: 'Neyshabur et al. 2020: the AUC left after resetting each stage of a trained model to its initial weights, or re-drawing it',
    arms: () => undefined,
    adjust: representations(['resnet50', 'cbr-small'], [0, 1, 2]),
  },
  checkpoints: {
    name: 'checkpoints',
    figure: 'Beyond',
    description: 'Neyshabur et al. 2020: transfer from intermediate pretraining checkpoints (step 0, a geometric series, the end) against random',
    arms: (spec) => CHECKPOINT_MODELS.flatMap((m) => arms(m, ['random', ...checkpointInits(spec.pretrain.steps), 'transfer'])),
    adjust: convergence,
  },
  knn: {
    name: 'knn',
    figure: 'Beyond',
    description: 'Matsoukas et al. 2022: k-NN AUC from each stage\'s pooled features, at initialisation and after training, random and transfer',
    arms: () => undefined,
    adjust: representations(['resnet50', 'cbr-small'], [0, 1, 2]),
  },
};

/** The models the checkpoints experiment (and reproduce's checkpoints study) transfers from pretraining checkpoints. */
export const CHECKPOINT_MODELS: readonly string[] = ['resnet50', 'cbr-small'];

/** The initialisations of the checkpoints experiment beyond random and transfer: "checkpoint:STEP" per pretraining
 * step of {@link pretrainingCheckpoints}. */
export const checkpointInits = (pretrainSteps: number): string[] => pretrainingCheckpoints(pretrainSteps).map((s) => `checkpoint:${s}`);

/** The pretraining steps the checkpoints experiment transfers from: 0 and a geometric series halving from the end
 * (S/16, S/8, S/4, S/2), distinct and below S; the end itself is the transfer arm. */
export function pretrainingCheckpoints(steps: number): number[] {
  return [...new Set([0, ...[16, 8, 4, 2].map((d) => Math.round(steps / d))])].filter((s) => s < steps);
}

/** The Section 4 analysis an experiment runs after training, if any. */
export const analysisOf = (experiment: Experiment): Analysis | undefined =>
  (ANALYSES as readonly string[]).includes(experiment) ? (experiment as Analysis) : undefined;

/**
 * The study for an experiment at a scale preset ("quick", "tiny", "paper").
 * @param experiment - A name from {@link EXPERIMENTS}, e.g. "table1", "transfusion".
 * @param scale - A preset name (see {@link PRESETS}).
 * @returns The preset's spec with the experiment's arms and adjustments, named "EXPERIMENT-SCALE" (table1: the
 *   preset's own name).
 * @throws ERR_INVALID_ARG for an unknown experiment or preset.
 */
export function experimentSpec(experiment: string, scale: string): StudySpec {
  const def = EXPERIMENTS[experiment as Experiment];
  if (!def)
    throw new TransfusionError('ERR_INVALID_ARG', `Unknown experiment "${experiment}"; known experiments: ${Object.keys(EXPERIMENTS).join(', ')}`);
  const base = preset(scale as PresetName);  // checked by preset() at run time
  const spec: StudySpec = { ...base, ...def.adjust(base), experiment: def.name, name: experiment === 'table1' ? base.name : `${experiment}-${base.name}` };
  const list = def.arms(spec);
  if (list) {
    spec.arms = list;
    spec.models = [...new Set(list.map((a) => a.model))];
    spec.inits = [...new Set(list.map((a) => a.init))];
  }
  return spec;
}

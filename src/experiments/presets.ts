// Presets: each says why its values differ from the paper's. `quick` is the default of `transfusion-native run`.
import type { StudySpec, TrainingSpec } from './spec';
import { TransfusionError } from '../errors';
import { CBR_MODELS } from '../models';

const adam = (lr: number, steps: number, batchSize: number, evalEvery: number): TrainingSpec => ({
  steps,
  batchSize,
  optimizer: 'adam',
  schedule: { kind: 'cosine', lr, warmupSteps: Math.max(1, Math.round(steps / 20)) },
  weightDecay: 0,
  momentum: 0.9,
  evalEvery,
});

const quick: StudySpec = {
  name: 'quick',
  experiment: 'table1',
  threshold: 0.91,
  why:
    'Table 1 in miniature on 2 CPU cores in under 5 minutes: 40 px images, 60 Adam steps of 16 images per run, ' +
    'and a 20-class embedded stand-in for ImageNet pretraining.',
  models: [...CBR_MODELS],
  inits: ['random', 'transfer'],
  seeds: [0, 1, 2],
  device: 'cpu',
  padding: 'same',
  task: { source: 'retina', imageSize: 40, trainSize: 2000, valSize: 400, seed: 1000 },
  train: adam(2e-3, 60, 16, 30),
  pretrain: { source: 'natural', classes: 20, imageSize: 40, trainSize: 3000, valSize: 500, seed: 2000, ...adam(2e-3, 80, 32, 0) },
};

const tiny: StudySpec = {
  ...quick,
  name: 'tiny',
  why: 'A smoke test of the whole pipeline in seconds (tests, CI): two small models, two seeds, a handful of steps.',
  models: ['cbr-tiny', 'cbr-small'],
  seeds: [0, 1],
  task: { source: 'retina', imageSize: 32, trainSize: 256, valSize: 128, seed: 1000 },
  train: adam(2e-3, 8, 16, 4),
  pretrain: { ...quick.pretrain, imageSize: 32, trainSize: 256, valSize: 128, ...adam(2e-3, 8, 16, 0) },
};

// Every model of the paper learning the embedded RETINA-like task on a 2-core CPU: ResNet-50 and Inception-v3 get
// "scaled input" (48 and 75 px: ResNet-50's stride-4 stem at 40 px leaves 10x10 maps in which the lesions vanish;
// Inception-v3 needs 75 px), batch 32 (BatchNorm in ResNet-50 at batch 16 learned nothing in 80 steps), Adam 1e-3
// for 150 steps (ResNet-50 at 48 px: AUC 0.86 after 90 steps, 0.91 after 150, seed 0), and pretraining long enough
// that transfer starts from weights that learned the natural-image source.
const laptop: StudySpec = {
  ...quick,
  name: 'laptop',
  why:
    'Every model of the paper on 2 CPU cores: 40 px images (ResNet-50 48 px, Inception-v3 75 px: scaled input), ' +
    '150 Adam steps of 32 images per run, and a 20-class embedded stand-in for ImageNet pretrained 300 steps.',
  models: ['resnet50', 'inception_v3', ...CBR_MODELS],
  imageSizes: { resnet50: 48, inception_v3: 75 },
  task: { source: 'retina', imageSize: 40, trainSize: 3000, valSize: 300, seed: 1000 },
  train: adam(1e-3, 150, 32, 15),
  pretrain: { source: 'natural', classes: 20, imageSize: 40, trainSize: 4000, valSize: 500, seed: 2000, ...adam(1e-3, 300, 32, 0) },
};

// The paper's scale: 224 px and up (RETINA photos are 587 px), SGD momentum 0.9, weight decay 1e-4, batch 256 with
// lr 0.1 from scratch (the public recipe in ../shared/paper/NOTES.md). For a GPU; a CPU would take days.
const paper: StudySpec = {
  ...quick,
  name: 'paper',
  why: 'Paper-scale settings (224 px, batch 256, SGD 0.1, 3 seeds, tens of thousands of steps), every model of Table 1: for a GPU.',
  models: ['resnet50', 'inception_v3', ...CBR_MODELS],
  device: 'cuda',
  task: { source: 'retina', imageSize: 224, trainSize: 50000, valSize: 5000, seed: 1000 },
  train: {
    steps: 30000,
    batchSize: 256,
    optimizer: 'sgd',
    schedule: { kind: 'cosine', lr: 0.1, warmupSteps: 500 },
    weightDecay: 1e-4,
    momentum: 0.9,
    evalEvery: 1000,
  },
  pretrain: {
    ...quick.pretrain,
    classes: 30,
    imageSize: 224,
    trainSize: 100000,
    valSize: 5000,
    steps: 50000,
    batchSize: 256,
    optimizer: 'sgd',
    schedule: { kind: 'cosine', lr: 0.1, warmupSteps: 1000 },
    weightDecay: 1e-4,
    momentum: 0.9,
    evalEvery: 0,
  },
};

/**
 * The scale presets, each with its reason in `why`: "quick" (Table 1 in miniature, a few minutes on 2 CPU cores; the
 * CLI's default), "laptop" (every model of the paper learning, `reproduce`'s default), "tiny" (a smoke test in seconds) and "paper" (the paper's scale, for a GPU).
 */
export const PRESETS: Record<PresetName, StudySpec> = { quick, laptop, tiny, paper };
/** A scale preset's name: quick, laptop, tiny or paper (preset()'s argument, so a misspelt one does not compile). */
export type PresetName = 'quick' | 'laptop' | 'tiny' | 'paper';

/**
 * A scale preset's study spec, to run as is or to change.
 * @param name - "quick", "tiny" or "paper" (see {@link PRESETS}).
 * @returns A copy of the preset's spec, free to modify.
 * @throws ERR_INVALID_ARG for an unknown name.
 */
export function preset(name: PresetName): StudySpec {
  // Own keys only: "__proto__", "constructor" and "toString" are not presets.
  const spec = typeof name === 'string' && Object.hasOwn(PRESETS, name) ? PRESETS[name as PresetName] : undefined;
  if (!spec) throw new TransfusionError('ERR_INVALID_ARG', `Unknown preset "${name}"; known presets: ${Object.keys(PRESETS).join(', ')}`);
  return structuredClone(spec);
}

// What an editor shows beside each field of a study file: the descriptions config.ts's schema carries. Training,
// schedule, augmentation and dataset fields read the same under `train` and `pretrain` (and `task.data` /
// `pretrain.data`), so they are described once.
import { LIMITS } from '../limits';

const HELP: Record<string, string> = {
  $schema: 'The schema this file follows (e.g. the file `transfusion-native schema --out` wrote)',
  experiment: "Which of the paper's comparisons: table1 (default), chexpert, small-data, meanvar, transfusion, hybrids, similarity, layers, init-vs-final, filters",
  preset: 'The scale the overrides start from: quick (default), tiny or paper',
  name: 'The study\'s name, recorded in results and used for the run directory under runs/ (default: the file\'s name)',
  why: 'One line on why the study\'s values are what they are, shown in the report',
  threshold: 'Validation AUC that counts as converged, for steps-to-threshold (the paper\'s Figure 7 uses 0.91)',
  models: 'Model names from `transfusion-native models` (e.g. cbr-small, resnet50); with `inits`, every model with every initialisation',
  inits: 'Initialisations: random, transfer, meanvar, gabor, slim (ResNet-50 only), transfusion:<stage>',
  arms: 'An explicit list of {model, init} pairs, instead of every model with every initialisation',
  seeds: 'Seeds: each arm is trained once per seed',
  device: 'cpu, cuda or cuda:N',
  padding: "Convolution padding of the CBR models: same or valid",
  imageSizes: 'Input size per model (e.g. {"resnet50": 96}), overriding task.imageSize and the pretraining size',
  saveWeights: 'Keep each run\'s trained weights in the run directory\'s weights/: "final" or "best" (with train.keepBest)',
  weights: 'Your pretrained weight files by model (.pt/.pth or .safetensors, e.g. torchvision\'s), used for transfer instead of embedded pretraining; relative to this file',
  task: 'The downstream task: embedded retina (default) or chest, or your dataset',
  'task.source': 'retina (the embedded RETINA-like fundus task), chest (the embedded CheXpert-like task) or files (task.data)',
  'task.imageSize': `Input side in pixels (${LIMITS.imageSize.min}-${LIMITS.imageSize.max})`,
  'task.trainSize': 'Training images (embedded: drawn; files: at most this many kept, stratified)',
  'task.valSize': 'Validation images (embedded: drawn; files: at most this many kept, stratified)',
  'task.seed': 'Seed of the drawn (or sampled) data',
  'task.uncertainRate': 'chest: fraction of training labels that are uncertain (0-1)',
  'task.policy': 'chest: what uncertain labels become per finding: ignore, zeros or ones',
  train: 'Training on the task',
  pretrain: 'Pretraining, the source of the transfer weights (natural: the embedded natural-image source; files: your labelled images)',
  'pretrain.source': 'natural (embedded, `classes` classes) or files (pretrain.data: an image folder or Fashion-MNIST)',
  'pretrain.classes': 'Classes of the embedded natural-image source (2-30)',
  'pretrain.imageSize': `Pretraining input side in pixels (${LIMITS.imageSize.min}-${LIMITS.imageSize.max})`,
  'pretrain.trainSize': 'Pretraining images',
  'pretrain.valSize': 'Pretraining validation images',
  'pretrain.seed': 'Seed of the pretraining data',
  representations: "Section 4's analyses: the probe set and datapoint budget",
  'representations.probeSize': 'Probe images every model is run over',
  'representations.maxDatapoints': 'Datapoints (conv positions) kept per stage; 0: max(20,000, 10 x channels)',
  'representations.seed': 'Seed of the probe images',
  'representations.interpolationBnBatches': 'Interpolation: minibatches of 64 training images BatchNorm is recomputed from at each point (default 8)',
  'representations.criticalitySamples': 'Module criticality: perturbations drawn per grid point (default 3)',
  'representations.criticalityImages': 'Module criticality: training images its loss is measured on (default 512)',
  '*.steps': 'Training steps per run',
  '*.batchSize': 'Images per step',
  '*.optimizer': 'sgd or adam',
  '*.schedule': 'The learning-rate schedule',
  '*.weightDecay': 'L2 weight decay (0-1)',
  '*.momentum': 'SGD momentum (0-1)',
  '*.evalEvery': 'Steps between validation evaluations (0: only at the end)',
  '*.patience': 'Early stopping: evaluations in a row without a better validation score before a run stops (0 or absent: off; needs evalEvery)',
  '*.keepBest': 'End each run with its best evaluation\'s weights, its AUC that evaluation\'s (default false: the last step\'s)',
  '*.channelsLast': 'NHWC weights and inputs (a GPU setting)',
  '*.precision': 'fp32, tf32 or bf16 (autocast; GPU settings)',
  '*.augment': 'Random affine augmentation of training images (none by default)',
  '*.schedule.kind': 'constant, cosine or step',
  '*.schedule.lr': 'Peak learning rate',
  '*.schedule.warmupSteps': 'Linear warm-up steps from lr/warmupSteps to lr',
  '*.schedule.finalFraction': 'cosine: the final learning rate as a fraction of lr (default 0)',
  '*.schedule.milestones': 'step: fractions of training at which the rate is multiplied by gamma (default [0.5, 0.75])',
  '*.schedule.gamma': 'step: the factor at each milestone (default 0.1)',
  '*.augment.rotate': 'Rotation up to +-degrees (0-180)',
  '*.augment.translate': 'Shift up to +-this fraction of the side (0-0.5)',
  '*.augment.scale': 'Zoom within 1 +- scale (0-0.5)',
  '*.augment.flip': 'Horizontal flips with probability 1/2',
  '*.data': 'A dataset on disk: { path, format? }',
  '*.data.path': 'The dataset: a folder or file, as the format expects; relative to this file',
  '*.data.format': 'eyepacs, chexpert, medmnist, folder, fashion-mnist, nih-chestxray14, mimic-cxr, rsna-pneumonia, aptos2019, messidor2 or idrid (detected from the path when absent)',
  '*.data.imageDir': 'EyePACS: the folder of images when not train/ beside the CSV; relative to this file',
  '*.data.policy': 'CheXpert and MIMIC-CXR: what uncertain labels become per finding: ignore, zeros or ones',
  '*.data.frontalOnly': 'CheXpert and MIMIC-CXR: frontal images only (default true)',
  '*.data.valFraction': 'Fraction of patients held out for validation where the format has no split of its own (NIH\'s lists, MIMIC-CXR\'s split.csv, IDRiD\'s testing set; default 0.2)',
  '*.data.equalize': 'none, normalise or clahe: contrast equalisation of each image',
  '*.data.onBadImage': 'fail (default) or skip an image that cannot be decoded',
  '*.data.dicom': 'DICOM files: the frame and display window read from each (default frame 0 and the file\'s window, else the 0.5th-99.5th percentiles)',
  '*.data.dicom.frame': 'The frame of a multi-frame file, from 0 (a file with fewer frames is a bad image)',
  '*.data.dicom.window': '"auto" (the 0.5th-99.5th percentiles of each frame) or { "center", "width" } in Modality LUT units (Hounsfield units for CT), instead of the file\'s window',
  '*.data.target': 'Graded retinal data (eyepacs, aptos2019, messidor2, idrid, RetinaMNIST): referable (default; one output, grade >= 2) or grade (five classes 0-4, scored by quadratic kappa and by the AUC of P(grade >= 2))',
};

/** The schema with every field's description from HELP (a field without one is a programming error). */
export function described<T>(schema: T, at = ''): T {
  const s = schema as { properties?: Record<string, unknown> };
  if (!s.properties) return schema;
  const properties = Object.fromEntries(Object.entries(s.properties).map(([key, sub]) => {
    const where = at ? `${at}.${key}` : key;
    const help = HELP[where] ?? HELP[`*.${where.split('.').slice(1).join('.')}`];
    if (help === undefined) throw new Error(`study schema: no description for ${where}`);
    return [key, { ...(described(sub, where) as object), description: help }];
  }));
  return { ...schema, properties };
}


// The bounds of every training setting, in one table: the study file's JSON Schema, validateSpec, the command line
// and learningRates() all read them, so a value is accepted or refused the same way wherever it is given, before any
// data are drawn or models pretrained.
export const LIMITS = {
  steps: { min: 1, max: 10_000_000 },
  batchSize: { min: 1, max: 1 << 20 },
  evalEvery: { min: 0, max: 1 << 30 },
  lr: { min: 0, max: 100 },
  weightDecay: { min: 0, max: 1 },
  momentum: { min: 0, max: 1 },
  imageSize: { min: 16, max: 1024 },
  classes: { min: 2, max: 30 },
  setSize: { min: 2, max: 10_000_000 },
} as const;

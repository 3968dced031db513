// transfusion-native: the typed library API. Everything the CLI does is here.
export { TransfusionError, NATIVE_ERROR_CODES, TS_ERROR_CODES, type ErrorCode } from './errors';
export { createModel, listModels, readTensor, weightFormatOf, Model, CBR_MODELS, MODEL_NAMES, type ModelName, type ModelOptions, type LoadOptions, type LoadReport, type ModelInfo, type ComputeOptions, type TensorData, type ForwardOptions, type MeanVarOptions, type MeanVarReport } from './models';
export {
  generateRetina,
  generateNatural,
  generateChest,
  chestFindings,
  defaultUncertaintyPolicy,
  createDataset,
  Dataset,
  UNCERTAINTY_POLICIES,
  type RetinaOptions,
  type NaturalOptions,
  type ChestOptions,
  type UncertaintyPolicy,
  type DatasetInfo,
  type ArrayDatasetOptions,
} from './data/embedded';
export { initProcessGroup, distributedFromEnv, ProcessGroup, type DistributedOptions } from './distributed';
export { train, evaluate, type TrainOptions, type TrainResult, type TrainEvent, type Metrics, type CurvePoint, type EvaluateOptions, type JobOptions } from './train';
export type { StepEvent, EvalEvent, CheckpointEvent, ResumeEvent, BucketsEvent, AugmentOptions, NativeModelOptions } from '../bindings/native';
export { auc, averagePrecision, bootstrapAucInterval, meanStd, quadraticKappa, stepsToAuc, type BootstrapOptions } from './metrics';
export { learningRates, type ScheduleSpec } from './schedules/lr';
export { gaborBank, gaborKernel, DEFAULT_GABOR, type GaborSpec, type GaborFilter, type GaborBank } from './init/gabor';
export { applyInit, parseInit, initLabel, type Initialisation, type InitSchedule, type InitReport } from './init/init';
export { EXPERIMENTS, experimentSpec, type ExperimentDefinition } from './experiments/catalog';
export { loadStudyConfig, STUDY_CONFIG_SCHEMA } from './experiments/config';
export { runStudy } from './experiments/study';
export { reproduce, readReproduction, mergeReproductions, REPRODUCE_SCHEMA, type ReproduceResults, type ReproduceOptions, type ReproduceEvent } from './experiments/reproduce';
export { reproducePlan, type ReproduceRequest, type ReproducePart, type PartName } from './experiments/reproduce-plan';
export { scoreFindings, type Finding, type Verdict } from './experiments/scorecard';
export { estimatePlan, describeEstimate, type PlanEstimate, type StageEstimate, type EstimateOptions } from './experiments/estimate';
export { writePaperReport, renderPaperReport } from './report/paper';
export type { StudyOptions, StudyReport } from './experiments/study-options';
export { resumeSpec, readResults, RESULTS_SCHEMA, type ResumeChanges, type StudyResults, type StudyEvent, type RunRecord, type Shard } from './experiments/results';
export { checkpointPath, DEFAULT_CHECKPOINT_EVERY } from './experiments/rundir';
export { PRESETS, preset, type PresetName } from './experiments/presets';
export { validateSpec, armsOf, type StudySpec, type Init, type Arm, type Experiment, type TrainingSpec, type RepresentationSettings } from './experiments/spec';
export type { TaskSpec } from './experiments/task';
export type { Analysis } from './experiments/representations';
export type { DataSpec } from './data/files/load';
export { loadDataset, type LoadDatasetOptions, type LoadedData } from './data/files/dataset';
export { DATA_FORMATS, DATA_TARGETS, type DataFormat, type DataTarget } from './data/files/formats';
export type { Dropped } from './data/files/labelled';
export { readDicom, isDicomFile, type DicomImage, type DicomReadOptions, type VoiSource } from './data/files/dicom';
export { defaultCacheDir, type PretrainRecord } from './experiments/pretrain';
export { renderReport } from './report/markdown';
export { writeReport, studyReport } from './report/write';
export { similarity, similarityBatch, reusedMemoryBytes, similarityMetrics, type MetricInfo, compareModels, compareModelSet, type StageResult, type StageResults, readNpy, pickMetrics, LAYOUTS, METRICS, type Layout, type Metric, type MetricValues, type SomeMetrics, type ActivationArray, type SimilarityResult, type SimilarityWork, type SimilarityOptions, type CompareOptions } from './similarity/similarity';
export { minibatchCka, type MinibatchCkaOptions, type CkaHeatmap } from './similarity/heatmap';
export { interpolate, stageCriticality, knnEvaluate, DEFAULT_ALPHAS, DEFAULT_SIGMAS, type InterpolateOptions, type Interpolation, type InterpolationPoint, type CriticalityOptions, type StageCriticality, type StageReset, type KnnOptions, type KnnResult } from './analysis/transfer';
export { setThreads, getThreads, liveHandles, cudaAvailable, versions } from './runtime';
export type { Provenance } from './provenance';

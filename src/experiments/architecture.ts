// Per-architecture policy for studies: the input size each model needs, its construction options at that size, where
// its "pretrained" weights come from, and Slim, the one initialisation that is also an architecture (ResNet-50's
// weights up to layer2 in resnet50-slim): every special case of it lives here.
import type { ModelInfo, ModelOptions } from '../models';
import type { Initialisation } from '../init/init';

const SLIM = 'resnet50-slim';

/** The model an arm trains: Slim is its own architecture. */
export function architectureFor(model: string, init: Initialisation): string {
  return init.kind === 'slim' ? SLIM : model;
}

/** Whether an initialisation can start this model (Slim is a ResNet-50 hybrid). */
export function initFitsModel(model: string, init: Initialisation): boolean {
  return init.kind !== 'slim' || ['resnet50', SLIM].includes(model.toLowerCase());
}

/** The initialisation a run applies: Table 1's "transfer" for Slim means its hybrid, ResNet-50's weights up to layer2. */
export function effectiveInit(model: string, init: Initialisation): Initialisation {
  return model === SLIM && init.kind === 'transfer' ? { kind: 'slim' } : init;
}

/** The model a run is reported with: Slim trains resnet50-slim but is a ResNet-50 initialisation. */
export function reportedModel(model: string, init: string): string {
  return model === SLIM && init === 'slim' ? 'resnet50' : model;
}

/** Inception-v3's auxiliary classifier needs 299 px inputs in training (its Mixed_6e map must be 17x17). */
export const INCEPTION_AUX_MIN_SIZE = 299;

/**
 * The image size a model gets: the study's, or the spec's per-model override (the paper's "scaled input" for ResNet-50,
 * whose stride-4 stem otherwise shrinks small lesions away), raised to what the architecture needs (Inception-v3: 75 px).
 */
export function inputSizeFor(info: ModelInfo, requested: number, overrides: Record<string, number> = {}): number {
  return Math.max(overrides[info.name] ?? requested, info.minInputSize);
}

export function modelOptionsFor(info: ModelInfo, size: number, base: ModelOptions): ModelOptions {
  return info.name === 'inception_v3' ? { ...base, auxLogits: size >= INCEPTION_AUX_MIN_SIZE } : base;
}

/**
 * The model whose pretrained weights the transfer arm loads, and how far: Slim takes ResNet-50's weights up to
 * layer2 (its layer3/layer4 are half width, so they stay randomly initialised); every other model takes its own,
 * with a new classifier.
 */
export function transferSource(model: string): { model: string; upTo?: string } {
  return model === SLIM ? { model: 'resnet50', upTo: 'layer2' } : { model };
}

// Per-architecture policy for studies: the input size each model needs, its construction options at that size, and
// where its "pretrained" weights come from.
import type { ModelInfo } from '../models';
import type { ModelOptions } from '../models';

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
  return model === 'resnet50-slim' ? { model: 'resnet50', upTo: 'layer2' } : { model };
}

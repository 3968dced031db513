// Per-architecture policy for studies: the input size each model needs, its construction options at that size, and
// where its "pretrained" weights come from.
import type { ModelInfo } from '../models';
import type { ModelOptions } from '../models';

/** Inception-v3's auxiliary classifier needs 299 px inputs in training (its Mixed_6e map must be 17x17). */
export const INCEPTION_AUX_MIN_SIZE = 299;

/** The study's image size, raised to what the architecture needs (Inception-v3: 75 px). */
export function inputSizeFor(info: ModelInfo, requested: number): number {
  return Math.max(requested, info.minInputSize);
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

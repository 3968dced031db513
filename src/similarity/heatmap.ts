// Minibatch CKA heatmaps (Nguyen, Raghu and Kornblith 2021): every stage, or every layer, of one model against every
// one of another, streamed natively over a probe set (core/similarity/minibatch.cc).
import type { CkaHeatmap } from '../../bindings/native';
import { checkOneOf } from '../errors';
import { awaitJob } from '../job';
import { checkHandle, checkOptions, optionKeys } from '../options';
import type { Dataset } from '../data/embedded';
import type { Model } from '../models';
import { addon } from '../runtime';

export type { CkaHeatmap } from '../../bindings/native';

/** How {@link minibatchCka} runs. */
export interface MinibatchCkaOptions {
  /**
   * 'stages' (default): the models' named stages; 'all': every layer, i.e. every block and conv output (ResNet-50:
   * conv1, each bottleneck's first two convs and its output, fc; the CBR family and Inception-v3: their stages), each
   * reduced to its minibatch Gram matrix as the forward pass makes it.
   */
  layers?: 'stages' | 'all';
  /** Model a's stages, or layers with `layers: 'all'` (default: all of them, input to output). */
  stagesA?: string[];
  /** Model b's stages or layers (default: all). */
  stagesB?: string[];
  /** Images per minibatch, at least 4 (default 64). */
  batchSize?: number;
  /** Cancels between minibatches (rejects with ABORT_ERR). */
  signal?: AbortSignal;
}
const MINIBATCH_CKA_KEYS = optionKeys<MinibatchCkaOptions>()(['layers', 'stagesA', 'stagesB', 'batchSize', 'signal']);

/**
 * Minibatch linear CKA (Nguyen, Raghu and Kornblith 2021) of every stage of one model against every stage of another:
 * each image a datapoint with its activations flattened, the unbiased HSIC of each minibatch's Gram matrices averaged
 * over minibatches, so no stage's activations are held beyond one batch (a heatmap of two ResNet-50s over all their
 * stages in bounded memory). With one batch holding every image it equals the full data's debiased linear CKA. With
 * `layers: 'all'` the heatmap covers every block and conv output, not only the named stages.
 * @param a - A model (the heatmap's rows).
 * @param b - Another model (its columns); a copy of a to compare a model with itself.
 * @param data - The probe images both models see.
 * @param options - Stages, batch size, signal ({@link MinibatchCkaOptions}).
 * @returns The stages and values[i][j], a's stage i against b's stage j.
 * @throws ERR_INVALID_ARG for a missing model or dataset, an unknown stage, layer or option, a batch under 4 images, or fewer
 *   than 4 images; ERR_BUSY when a model is training; ERR_DISPOSED; ABORT_ERR.
 * @example
 * ```ts
 * const h = await minibatchCka(random, transfer, probe, { batchSize: 128 });
 * h.values[0][0];  // conv1 against conv1
 * ```
 */
export async function minibatchCka(a: Model, b: Model, data: Dataset, options: MinibatchCkaOptions = {}): Promise<CkaHeatmap> {
  checkHandle('minibatchCka()', 'a', a, 'Model', 'createModel()');
  checkHandle('minibatchCka()', 'b', b, 'Model', 'createModel()');
  checkHandle('minibatchCka()', 'data', data, 'Dataset', 'generateRetina() or createDataset()');
  checkOptions('minibatchCka()', options, MINIBATCH_CKA_KEYS);
  const { signal, layers, ...native } = options;
  if (layers !== undefined) checkOneOf('minibatchCka(): `layers`', layers, ['stages', 'all'] as const);
  return awaitJob(() => addon().minibatchCka(a.native, b.native, data.native, { ...native, allLayers: layers === 'all' }), signal);
}

// The pretrained weights a study's runs start from, per source model: the user's file (spec.weights), the cache, or
// embedded pretraining now. One promise per model, so runs in flight at once that need the same weights share one
// pretraining; a resumed study's recorded weights are taken as they are.
import type { Dataset } from '../data/embedded';
import type { ModelInfo } from '../models';
import { inputSizeFor, modelOptionsFor, transferSource } from './architecture';
import { cachedPretrain, pretrain, userWeights, type PretrainLayout, type PretrainRecord } from './pretrain';
import type { StudyEvent } from './results';
import type { Arm } from './study-plan';
import type { StudySpec } from './spec';

export interface SourceContext {
  spec: StudySpec;
  arms: Arm[];
  infoOf: (model: string) => ModelInfo;
  cacheDir: string;
  /** The pretraining set at an input size. */
  naturalAt: (size: number) => Promise<{ train: Dataset; val: Dataset }>;
  emit: (e: StudyEvent) => void;
  signal?: AbortSignal;
  /** Intra-op threads of a pretraining beside others (undefined: the process's). */
  threads: () => number | undefined;
  /** The records the study already holds (a resumed study's), and where a new one goes when ready. */
  known: () => PretrainRecord[];
  onReady: (record: PretrainRecord) => void;
  /** The study's data-parallel group: a pretraining is shared out over it as the study's runs are. */
  layout: PretrainLayout;
}

export class PretrainSources {
  private readonly started = new Map<string, Promise<PretrainRecord>>();
  private readonly ready = new Set<string>();
  private readonly order: string[];

  constructor(private readonly ctx: SourceContext) {
    this.order = [...new Set(ctx.arms.map((a) => transferSource(a.model).model))];
  }

  /** The weights of `model`, pretraining them (reported under run `index`) if no one has yet. */
  weightsOf(model: string, index: number): Promise<PretrainRecord> {
    const known = this.ctx.known().find((r) => r.model === model);
    if (known) return Promise.resolve(known);
    if (!this.started.has(model)) this.started.set(model, this.make(model, index));
    return this.started.get(model)!;
  }

  /** Whether a run from `model`'s weights would not wait on a pretraining in progress. */
  available(model: string | undefined): boolean {
    return !model || !this.started.has(model) || this.ready.has(model);
  }

  /** The study's order of source models, for sorting records however they finished. */
  rank(model: string): number {
    return this.order.includes(model) ? this.order.indexOf(model) : this.order.length;
  }

  private async make(model: string, index: number): Promise<PretrainRecord> {
    const { spec, cacheDir, emit } = this.ctx;
    const steps = [...new Set(this.ctx.arms.filter((a) => a.init.kind === 'checkpoint' && transferSource(a.model).model === model).map((a) => (a.init as { step: number }).step))];
    let record: PretrainRecord | undefined = spec.weights?.[model] ? userWeights(model, spec.weights[model]) : cachedPretrain(model, spec, cacheDir, steps, this.ctx.layout);
    emit({ kind: 'pretrain-start', model, from: !record ? 'pretraining' : record.source === 'file' ? 'file' : 'cache' });
    if (!record) {
      const info = this.ctx.infoOf(model);
      const size = inputSizeFor(info, spec.pretrain.imageSize, spec.imageSizes);
      record = await pretrain(model, spec, await this.ctx.naturalAt(size), cacheDir, modelOptionsFor(info, size, {}), {
        signal: this.ctx.signal,
        onProgress: (event) => emit({ kind: 'train', index, phase: 'pretrain', model, event }),
      }, this.ctx.threads(), steps, this.ctx.layout);
    }
    this.ready.add(model);
    this.ctx.onReady(record);
    emit({ kind: 'pretrain-end', record });
    return record;
  }
}

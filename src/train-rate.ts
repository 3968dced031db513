// A model's training throughput on this machine, measured: the bench's addon side, and `reproduce`'s estimate of a
// plan's time (a few steps per model and input size before a long run starts).
import { generateRetina } from './data/embedded';
import { modelNamed } from './models';
import { train } from './train';

export interface RateOptions {
  device: string;
  batch: number;
  precision?: 'fp32' | 'tf32' | 'bf16';
  channelsLast?: boolean;
  /** CUDA: the training step replayed as a CUDA graph. */
  cudaGraph?: boolean;
  /** Timed steps, after `warmup` untimed ones. */
  steps: number;
  warmup: number;
  /** Intra-op threads of the probe (default: the process's). */
  threads?: number;
}

/** Images per second of SGD training steps of `model` at `size` px, after warm-up (the validation pass not counted). */
export async function measureTrainingRate(model: string, size: number, o: RateOptions): Promise<number> {
  // At least 16 images, so the validation pass that ends train() sees both classes.
  const data = await generateRetina({ count: Math.max(o.batch, 16), size, seed: 0, gradeWeights: [1, 0, 1, 0, 0] });
  // Inception-v3's auxiliary classifier needs 299 px; below that it is left out (as in studies).
  const net = modelNamed(model, { numClasses: 1, seed: 0, device: o.device, ...(model === 'inception_v3' ? { auxLogits: size >= 299 } : {}) });
  try {
    // One run: the warm-up steps (at least the graph's 3 eager steps and its capture), then the timed ones. The losses
    // are read back after the warm-up and then every `warm` steps, so the timed windows hold timed steps only and the
    // device runs ahead of the host in between, as in a study; the validation pass at the end is not counted.
    const warm = Math.max(o.warmup, o.cudaGraph ? 4 : 1);
    const settings = { batchSize: o.batch, optimizer: 'sgd' as const, momentum: 0.9, weightDecay: 1e-4, precision: o.precision ?? 'fp32', channelsLast: Boolean(o.channelsLast), cudaGraph: Boolean(o.cudaGraph), evalBatchSize: o.batch };
    let seconds = 0;
    await train(net, { train: data, val: data }, { ...settings, steps: warm + o.steps, schedule: { kind: 'constant', lr: 0.01 }, syncEvery: warm, ...(o.threads ? { threads: o.threads } : {}) }, {
      onProgress: (e) => {
        if (e.kind === 'step' && e.step > warm) seconds += o.batch / e.imagesPerSecond;  // the step's share of its window
      },
    });
    return (o.steps * o.batch) / seconds;
  } finally {
    net.dispose();
    data.dispose();
  }
}

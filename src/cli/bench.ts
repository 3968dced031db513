// `transfusion-native bench`: training throughput per model (images/s after warm-up, and TFLOP/s from the addon's own
// count of forward FLOPs) and similarity throughput (pairs/s at a stated size); with --vs-python, the same training step
// in PyTorch from Python (bench/train_step.py) in the same invocation, alternated round by round, the ratio
// addon/python, and the peer's FLOP count beside the addon's.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

import { packageRoot } from '../../bindings/native';
import { TransfusionError } from '../errors';
import { modelNamed, listModels } from '../models';
import { getThreads, peerEnvironment, tunedPeerEnvironment, versions } from '../runtime';
import { similarityBatch, type ActivationArray } from '../similarity/similarity';
import { measureTrainingRate } from '../train-rate';

export interface BenchOptions {
  device: string;
  models: string[];
  batch: number;
  /** Image side in pixels (raised to a model's minimum, e.g. 75 for Inception-v3). */
  size: number;
  precision: 'fp32' | 'tf32' | 'bf16';
  channelsLast: boolean;
  /** CUDA: the training step replayed as a CUDA graph, on both sides. */
  cudaGraph: boolean;
  steps: number;
  warmup: number;
  /** Rounds alternating addon and python; the best round of each counts. */
  rounds: number;
  /** The interpreter for --vs-python (undefined: no python peer). */
  python?: string;
  /** Similarity: pairs of (datapoints x neurons) per side; 0 pairs skips it. */
  similarity: { pairs: number; datapoints: number; neurons: number };
}

export interface TrainingBench {
  model: string;
  batch: number;
  size: number;
  imagesPerSecond: number;
  /** Forward FLOPs of one image as the addon counts them: 2 x multiply-adds of every conv and linear layer. */
  flopsPerImage: number;
  /** Achieved training TFLOP/s, taking a training step as 3x the forward FLOPs. */
  tflops: number;
  /** The peer's run; its `flopsPerImage` is its own count (forward hooks), which should equal the addon's. */
  python?: { imagesPerSecond: number; torch: string; device: string; flopsPerImage: number };
  /** addon / python images/s. */
  ratio?: number;
  /** The tuned peer: the same Python with jemalloc or tcmalloc preloaded (absent where neither is installed). */
  pythonTuned?: { allocator: string; imagesPerSecond: number };
  /** addon / tuned python images/s. */
  ratioTuned?: number;
}

export interface BenchResults {
  device: string;
  precision: string;
  channelsLast: boolean;
  cudaGraph: boolean;
  threads: number;
  torch: string;
  /** The cap on oneDNN's CPU kernels on both sides (null: none; set where this CPU makes the faster ones unsafe). */
  oneDnnMaxIsa: string | null;
  training: TrainingBench[];
  similarity?: { pairs: number; datapoints: number; neurons: number; seconds: number; pairsPerSecond: number; route: string };
}

interface PeerResult {
  images_per_second: number;
  flops_per_image: number;
  torch: string;
  device: string;
}

function pythonStep(o: BenchOptions, model: string, size: number, env: NodeJS.ProcessEnv = peerEnvironment()): PeerResult {
  const script = path.join(packageRoot(), 'bench', 'train_step.py');
  const args = [script, '--model', model, '--batch', o.batch, '--size', size, '--steps', o.steps, '--warmup', o.warmup, '--threads', getThreads(),
    '--device', o.device, '--precision', o.precision, ...(o.channelsLast ? ['--channels-last'] : []), ...(o.cudaGraph ? ['--cuda-graph'] : [])].map(String);
  const r = spawnSync(o.python!, args, { encoding: 'utf8', env });
  if (r.status !== 0)
    throw new TransfusionError('ERR_PYTHON', `${o.python} ${path.relative(process.cwd(), script)} --model ${model} failed: ${(r.stderr || String(r.error)).trim().split('\n').slice(-3).join(' | ')}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as PeerResult;
}

/** The model's forward FLOPs for one size x size image, counted by the addon on the bench's device. */
async function addonFlops(o: BenchOptions, model: string, size: number): Promise<number> {
  const net = modelNamed(model, { numClasses: 1, seed: 0, device: o.device, ...(model === 'inception_v3' ? { auxLogits: size >= 299 } : {}) });
  try {
    return await net.forwardFlops(size);
  } finally {
    net.dispose();
  }
}

const addonStep = (o: BenchOptions, model: string, size: number): Promise<number> =>
  measureTrainingRate(model, size, { device: o.device, batch: o.batch, precision: o.precision, channelsLast: o.channelsLast, cudaGraph: o.cudaGraph, steps: o.steps, warmup: o.warmup });

/** A seeded (N, P) float32 array: shared latent signal plus noise, so the pair has non-trivial correlations. */
function activations(n: number, p: number, seed: number, latent: Float32Array): ActivationArray {
  let s = (seed * 2654435761) >>> 0;
  const rand = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 4294967296) * 2 - 1;
  const data = new Float32Array(n * p);
  for (let i = 0; i < n; i++) for (let j = 0; j < p; j++) data[i * p + j] = latent[i * 8 + (j % 8)] * (j % 3) + rand();
  return { data, shape: [n, p] };
}

export async function runBench(o: BenchOptions, onLine: (text: string) => void = () => {}): Promise<BenchResults> {
  const known = new Map(listModels().map((m) => [m.name, m] as const));
  for (const m of o.models)
    if (!known.has(m)) throw new TransfusionError('ERR_INVALID_ARG', `Expected \`--models\` to be model names from: ${[...known.keys()].join(', ')} but received "${m}"`);
  const results: BenchResults = { device: o.device, precision: o.precision, channelsLast: o.channelsLast, cudaGraph: o.cudaGraph, threads: getThreads(), torch: versions().torch, oneDnnMaxIsa: versions().oneDnnMaxIsa, training: [] };
  onLine(`bench on ${o.device}, ${results.threads} thread(s), LibTorch ${results.torch}, ${o.precision}${o.channelsLast ? ', channels-last' : ''}${o.cudaGraph ? ', CUDA graph' : ''}${o.python ? `; peer: ${o.python}` : ''}`);
  // The tuned peer: the same Python with jemalloc or tcmalloc preloaded, where one is installed.
  const tuned = o.python && o.device === 'cpu' ? tunedPeerEnvironment() : undefined;
  for (const model of o.models) {
    const size = Math.max(o.size, known.get(model)!.minInputSize);
    const flops = await addonFlops(o, model, size);
    const addon: number[] = [], peer: PeerResult[] = [], tunedPeer: PeerResult[] = [];
    for (let round = 0; round < o.rounds; round++) {
      addon.push(await addonStep(o, model, size));
      if (o.python) peer.push(pythonStep(o, model, size));
      if (tuned) tunedPeer.push(pythonStep(o, model, size, tuned.env));
    }
    const best = Math.max(...addon);
    const fastest = (xs: PeerResult[]) => (xs.length ? xs.reduce((a, b) => (b.images_per_second > a.images_per_second ? b : a)) : undefined);
    const py = fastest(peer), pyTuned = fastest(tunedPeer);
    const row: TrainingBench = {
      model, batch: o.batch, size, imagesPerSecond: best, flopsPerImage: flops, tflops: (3 * flops * best) / 1e12,
      ...(py ? { python: { imagesPerSecond: py.images_per_second, torch: py.torch, device: py.device, flopsPerImage: py.flops_per_image }, ratio: best / py.images_per_second } : {}),
      ...(pyTuned && tuned ? { pythonTuned: { allocator: tuned.allocator, imagesPerSecond: pyTuned.images_per_second }, ratioTuned: best / pyTuned.images_per_second } : {}),
    };
    results.training.push(row);
    onLine(
      `${model.padEnd(18)} batch ${o.batch} ${size}px: ${best.toFixed(1)} img/s, ${row.tflops.toFixed(3)} TFLOP/s` +
        (row.python ? ` | python ${row.python.imagesPerSecond.toFixed(1)} img/s | addon/python ${row.ratio!.toFixed(3)}` : '') +
        (row.pythonTuned ? ` | python+${row.pythonTuned.allocator} ${row.pythonTuned.imagesPerSecond.toFixed(1)} img/s | addon/tuned ${row.ratioTuned!.toFixed(3)}` : '') +
        (row.python && row.python.flopsPerImage !== flops ? ` | FLOPs differ: addon ${flops}, python ${row.python.flopsPerImage} per image` : ''),
    );
  }
  const { pairs, datapoints, neurons } = o.similarity;
  if (pairs > 0) {
    const latent = Float32Array.from({ length: datapoints * 8 }, (_, i) => Math.sin(i * 12.9898) * 43758.5453 % 1);
    const inputs = Array.from({ length: 2 * pairs }, (_, k) => activations(datapoints, neurons, k + 1, latent));
    const index = Array.from({ length: pairs }, (_, k) => [2 * k, 2 * k + 1] as [number, number]);
    await similarityBatch(inputs.slice(0, 2), [[0, 1]], { device: o.device });  // warm-up
    const t0 = process.hrtime.bigint();
    const r = await similarityBatch(inputs, index, { device: o.device });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    results.similarity = { pairs, datapoints, neurons, seconds, pairsPerSecond: pairs / seconds, route: r[0].route };
    onLine(`similarity: ${pairs} pairs of ${datapoints} x ${neurons} per side in ${seconds.toFixed(2)}s: ${(pairs / seconds).toFixed(2)} pairs/s (${r[0].route})`);
  }
  return results;
}

/** The first interpreter that imports torch: the one given, else python3 on PATH, else Debian's /usr/bin/python3. */
export function findPython(given?: string): string {
  const candidates = given ? [given] : ['python3', '/usr/bin/python3'];
  for (const py of candidates) if (spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0) return py;
  throw new TransfusionError('ERR_PYTHON', `--vs-python needs a Python with torch: tried ${candidates.join(', ')} (on Debian: apt-get install python3-torch python3-torchvision)`);
}

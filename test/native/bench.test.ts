import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

import { tunedPeerEnvironment } from '../../src/runtime';

const bin = path.resolve(__dirname, '../../bin/transfusion-native.js');
const cli = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, TRANSFUSION_THREADS: '2' } });

describe('transfusion-native bench', () => {
  it('measures training against PyTorch from Python in one invocation, with FLOPs counted, and similarity throughput', () => {
    const r = cli('bench', '--models', 'cbr-tiny', '--batch', '8', '--size', '32', '--steps', '2', '--warmup', '1', '--rounds', '1', '--vs-python', '--python', '/usr/bin/python3', '--cca', '2x1000x32', '--json');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ device: 'cpu', precision: 'fp32', channelsLast: false, threads: 2, torch: expect.stringMatching(/^\d+\.\d+\.\d+$/), oneDnnMaxIsa: out.oneDnnMaxIsa === null ? null : 'SSE41' });
    const [row] = out.training;
    expect(row).toMatchObject({ model: 'cbr-tiny', batch: 8, size: 32, python: { torch: expect.stringMatching(/^\d+\.\d+/), device: 'cpu' } });
    // The addon's LibTorch and the peer's PyTorch are one release (Debian ships them together), whichever it is.
    const release = (v: string) => v.split('.').slice(0, 2).join('.');
    expect(release(row.python.torch)).toBe(release(out.torch));
    expect(row.imagesPerSecond).toBeGreaterThan(0);
    expect(row.python.imagesPerSecond).toBeGreaterThan(0);
    expect(row.ratio).toBeCloseTo(row.imagesPerSecond / row.python.imagesPerSecond, 10);
    // The tuned peer (jemalloc or tcmalloc preloaded), wherever one is installed.
    const tuned = tunedPeerEnvironment();
    if (tuned) {
      expect(row.pythonTuned).toEqual({ allocator: tuned.allocator, imagesPerSecond: expect.any(Number) });
      expect(row.ratioTuned).toBeCloseTo(row.imagesPerSecond / row.pythonTuned.imagesPerSecond, 10);
    } else {
      expect(row.pythonTuned).toBeUndefined();
    }
    // CBR-Tiny's forward FLOPs at 32 px, by hand: 5x5 same-padded convs at 32, 16, 8 and 4 px (a 3x3/2 pool after each),
    // and the 256 -> 1 head; the addon counts them from the ops its forward pass runs, the peer with forward hooks.
    const conv = (cin: number, cout: number, side: number) => 2 * cout * side * side * cin * 25;
    const flops = conv(3, 32, 32) + conv(32, 64, 16) + conv(64, 128, 8) + conv(128, 256, 4) + 2 * 256;
    expect(row.flopsPerImage).toBe(flops);
    expect(row.python.flopsPerImage).toBe(flops);
    expect(row.tflops).toBeCloseTo((3 * flops * row.imagesPerSecond) / 1e12, 12);
    expect(out.similarity).toMatchObject({ pairs: 2, datapoints: 1000, neurons: 32, route: expect.stringMatching(/^gram\//) });
    expect(out.similarity.pairsPerSecond).toBeCloseTo(2 / out.similarity.seconds, 10);
  }, 120000);

  it('prints TFLOP/s without the python peer, from the FLOPs the addon counts', () => {
    const r = cli('bench', '--models', 'cbr-tiny', '--batch', '8', '--size', '32', '--steps', '1', '--warmup', '0', '--rounds', '1', '--cca', '0');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^cbr-tiny +batch 8 32px: \d+\.\d img\/s, \d+\.\d{3} TFLOP\/s$/m);
    expect(r.stdout).not.toContain('python');
  }, 120000);

  it('raises the size to what a model needs, and names bad arguments', () => {
    const r = cli('bench', '--models', 'inception_v3', '--batch', '2', '--size', '32', '--steps', '1', '--warmup', '0', '--rounds', '1', '--cca', '0', '--json');
    expect(r.status).toBe(0);
    const [row] = JSON.parse(r.stdout).training;
    expect(row.size).toBe(75);
    expect(row.python).toBeUndefined();
    expect(row.flopsPerImage).toBeGreaterThan(0);  // at the raised size; test/native/flops.test.ts checks it against the peer
    expect(row.tflops).toBeCloseTo((3 * row.flopsPerImage * row.imagesPerSecond) / 1e12, 12);
    expect(JSON.parse(r.stdout).similarity).toBeUndefined();
    const cca = cli('bench', '--cca', '8x20000');
    expect(cca.status).toBe(2);
    expect(cca.stderr).toContain('Expected `--cca` as PAIRSxDATAPOINTSxNEURONS (e.g. 8x20000x512) or 0 but received "8x20000"');
    // Similarity alone (scripts/device-check.sh's similarity stage): no training row, and an empty list is no way to say it.
    const alone = cli('bench', '--models', 'none', '--cca', '1x400x8', '--json');
    expect(alone.status).toBe(0);
    expect(JSON.parse(alone.stdout)).toMatchObject({ training: [], similarity: { pairs: 1, datapoints: 400, neurons: 8 } });
    expect(cli('bench', '--models', '', '--cca', '0').stderr).toContain('Expected `--models` to be given a value but received ""');
    const model = cli('bench', '--models', 'vgg16', '--cca', '0');
    expect(model.status).toBe(2);
    expect(model.stderr).toContain('Expected `--models` to be model names from: cbr-larget');
  }, 120000);

  it('bench/similarity.js times independent pairs and a shared-activation batch against numpy, with the GEMM rate and the BLAS named', () => {
    const r = spawnSync(
      process.execPath,
      [
        path.resolve(__dirname, '../../bench/similarity.js'), '--pairs', '1', '--datapoints', '400', '--neurons', '8', '--models', '3', '--layers', '2', '--shared-neurons', '6', '--rounds', '1',
        '--rbf-pairs', '1', '--rbf-datapoints', '300', '--rbf-neurons', '8', '--heatmap-images', '16', '--heatmap-batch', '8', '--heatmap-size', '32', '--json',
      ],
      { encoding: 'utf8' },
    );
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out.gemm).toMatchObject({ shape: [400, 8], gflops: { numpy: expect.any(Number) }, best: expect.any(Number) });
    const timed = { engine: expect.any(Number), numpy: expect.any(Number), ratio: expect.any(Number), gramPhaseFraction: expect.any(Number), engineGflops: expect.any(Number) };
    expect(out.independent).toMatchObject({ pairs: 1, shape: [400, 8], ...timed, work: { prepared: 2, products: 3 } });
    // Procrustes and the shape metric each alone on both sides, and the peers' agreement with the engine's values.
    for (const alone of [out.independent.procrustes, out.independent.shapeMetric]) {
      expect(alone).toMatchObject({ engine: expect.any(Number), numpy: expect.any(Number), ratio: expect.any(Number) });
      expect(alone.ratio).toBeCloseTo(alone.numpy / alone.engine, 10);
      expect(alone.largestDifference).toBeLessThan(1e-9);
    }
    expect(out.rbf).toMatchObject({ pairs: 1, shape: [300, 8], engine: expect.any(Number), numpy: expect.any(Number) });
    expect(out.rbf.largestDifference).toBeLessThan(1e-9);
    // The heatmap: every layer of two ResNet-50s (50 x 50), its throughput and the process's peak memory.
    expect(out.heatmap).toMatchObject({ model: 'resnet50', layers: 50, images: 16, batches: 2, size: 32 });
    expect(out.heatmap.imagesPerSecond).toBeCloseTo(16 / out.heatmap.seconds, 8);
    expect(out.heatmap.peakResidentBytes).toBeGreaterThan(out.heatmap.modelBytes);
    // 3 models x 2 layers, every pair of models at each layer: 6 pairs over 6 activations, each prepared once.
    // Both peers in the same rounds: get_cca_similarity per pair (the case's numpy and ratio) and numpy with reuse.
    expect(out.shared).toMatchObject({ models: 3, layers: 2, pairs: 6, shape: [400, 6], peer: 'both', ...timed, work: { prepared: 6, products: 12 } });
    expect(out.shared.reuse).toMatchObject({ numpy: expect.any(Number), ratio: expect.any(Number) });
    expect(out.shared.reuse.rounds).toHaveLength(1);
    expect(out.shared.rounds.numpy).toHaveLength(1);
    expect(out.shared.largestMeanCcaDifference).toBeLessThan(1e-6);
    expect(out.independent.peerBlas).toMatchObject({ name: expect.any(String), reference: expect.any(Boolean) });
    expect(out.independent.peerBlas.name).not.toBe('?');
    if (out.independent.peerBlas.reference) expect(r.stderr).toContain('WARNING: numpy ran on the reference BLAS');
    else expect(r.stderr).not.toContain('WARNING');
  }, 120000);
});

// The GPU set: what only a CUDA device can show. It skips itself where LibTorch sees no CUDA device (every machine
// here); scripts/device-check.sh runs it on a GPU machine.
import { createModel, cudaAvailable, generateRetina, initProcessGroup, minibatchCka, similarityBatch, train, type ActivationArray, type Dataset, type TrainOptions } from '../../src';
import { freePort } from '../../src/cli/launch';

const onGpu = cudaAvailable() ? describe : describe.skip;

onGpu('on a CUDA device', () => {
  let trainSet: Dataset, valSet: Dataset;
  beforeAll(async () => {
    [trainSet, valSet] = await Promise.all([generateRetina({ count: 256, size: 32, seed: 1 }), generateRetina({ count: 128, size: 32, seed: 2 })]);
  });
  afterAll(() => {
    trainSet.dispose();
    valSet.dispose();
  });

  const options = (extra: Partial<TrainOptions> = {}): TrainOptions => ({
    steps: 8, batchSize: 16, optimizer: 'sgd', schedule: { kind: 'constant', lr: 0.01 }, seed: 3, precision: 'fp32', channelsLast: false, ...extra,
  });
  const run = async (device: string, extra: Partial<TrainOptions> = {}) => {
    const m = createModel('cbr-tiny', { seed: 1, device });
    try {
      return await train(m, { train: trainSet, val: valSet }, options(extra));
    } finally {
      m.dispose();
    }
  };

  it('trains to the CPU losses in fp32 (TF32 off), within float32 tolerance', async () => {
    const [cpu, cuda] = [await run('cpu'), await run('cuda')];
    cuda.losses.forEach((loss, i) => expect(Math.abs(loss - cpu.losses[i])).toBeLessThan(1e-3 * Math.max(1, Math.abs(cpu.losses[i]))));
    expect(Math.abs(cuda.final.meanAuc! - cpu.final.meanAuc!)).toBeLessThan(0.02);
  });

  it.each([
    ['bf16', { precision: 'bf16' as const }],
    ['channels-last', { channelsLast: true }],
    ['bf16 + channels-last', { precision: 'bf16' as const, channelsLast: true }],
  ])('trains with %s: finite losses close to fp32', async (_name, extra) => {
    const [fp32, other] = [await run('cuda'), await run('cuda', extra)];
    other.losses.forEach((loss, i) => {
      expect(Number.isFinite(loss)).toBe(true);
      expect(Math.abs(loss - fp32.losses[i])).toBeLessThan(0.05 * Math.max(1, Math.abs(fp32.losses[i])));
    });
  });

  it('streams a set kept off the device through side-stream copies, to the resident losses', async () => {
    const [resident, streamed] = [await run('cuda'), await run('cuda', { residentMegabytes: 0 })];
    expect(resident.resident).toBe(true);
    expect(streamed.resident).toBe(false);
    expect(streamed.prefetched).toBe(7);  // every step's batch but the first came from the copy started a step ahead
    streamed.losses.forEach((loss, i) => expect(Math.abs(loss - resident.losses[i])).toBeLessThan(1e-5 * Math.max(1, Math.abs(resident.losses[i]))));
  });

  it('steps with multi-tensor kernels to LibTorch\'s own step within float32 rounding', async () => {
    for (const optimizer of ['sgd', 'adam'] as const) {
      const [multi, single] = [await run('cuda', { optimizer, foreach: true }), await run('cuda', { optimizer, foreach: false })];
      multi.losses.forEach((loss, i) => expect(Math.abs(loss - single.losses[i])).toBeLessThan(1e-5 * Math.max(1, Math.abs(single.losses[i]))));
    }
  });

  it.each([
    ['sgd, fp32', { optimizer: 'sgd' as const }],
    ['adam, fp32', { optimizer: 'adam' as const, schedule: { kind: 'constant' as const, lr: 1e-3 } }],
    ['sgd, bf16 + channels-last', { optimizer: 'sgd' as const, precision: 'bf16' as const, channelsLast: true }],
  ])('replays the step as a CUDA graph (%s): finite losses close to eager', async (_name, extra) => {
    const [eager, graphed] = [await run('cuda', { ...extra, steps: 12 }), await run('cuda', { ...extra, steps: 12, cudaGraph: true })];
    expect(eager.graphed).toBe(0);
    expect(graphed.graphed).toBe(9);  // 3 eager warm-up steps, then replays
    graphed.losses.forEach((loss, i) => {
      expect(Number.isFinite(loss)).toBe(true);
      expect(Math.abs(loss - eager.losses[i])).toBeLessThan(0.02 * Math.max(1, Math.abs(eager.losses[i])));
    });
    expect(Math.abs(graphed.final.meanAuc! - eager.final.meanAuc!)).toBeLessThan(0.05);
  });

  it('gives the CPU engine similarity on the GPU (float64 on the device) within 1e-9', async () => {
    const make = (seed: number, n: number, p: number): ActivationArray => {
      let s = seed;
      const data = new Float32Array(n * p).map(() => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5);
      return { data, shape: [n, p] };
    };
    const inputs = [make(1, 2000, 64), make(2, 2000, 64), make(3, 2000, 48)];
    const pairs: [number, number][] = [[0, 1], [0, 2], [1, 2]];
    const [cpu, cuda] = [await similarityBatch(inputs, pairs), await similarityBatch(inputs, pairs, { device: 'cuda' })];
    cuda.forEach((r, k) => {
      expect(r.route).toBe('gram/cuda');
      expect(Math.abs(r.meanCca - cpu[k].meanCca)).toBeLessThan(1e-9);
      expect(Math.abs(r.svccaMean - cpu[k].svccaMean)).toBeLessThan(1e-9);
      expect(Math.abs(r.pwcca - cpu[k].pwcca)).toBeLessThan(1e-9);
      expect(Math.abs(r.linearCka - cpu[k].linearCka)).toBeLessThan(1e-9);
    });
  });

  it('runs the every-layer minibatch CKA heatmap on the device, to the CPU heatmap within 1e-6 (TF32 off)', async () => {
    const on = (device: string) => [createModel('resnet50', { seed: 1, numClasses: 1, device }), createModel('resnet50', { seed: 2, numClasses: 1, device })];
    const [cpuA, cpuB] = on('cpu'), [gpuA, gpuB] = on('cuda');
    try {
      const cpu = await minibatchCka(cpuA, cpuB, valSet, { layers: 'all', batchSize: 32 });
      const gpu = await minibatchCka(gpuA, gpuB, valSet, { layers: 'all', batchSize: 32 });
      expect(gpu.stagesA).toHaveLength(50);
      gpu.values.forEach((row, i) => row.forEach((v, j) => expect(Math.abs(v! - cpu.values[i][j]!)).toBeLessThan(1e-6)));
    } finally {
      [cpuA, cpuB, gpuA, gpuB].forEach((m) => m.dispose());
    }
  });

  it('all-reduces in a one-rank NCCL group: training through it equals training alone', async () => {
    const group = await initProcessGroup({ backend: 'nccl', masterAddr: '127.0.0.1', masterPort: await freePort(), rank: 0, worldSize: 1, localRank: 0 });
    try {
      const [alone, grouped] = [await run('cuda'), await run('cuda', { group })];
      grouped.losses.forEach((loss, i) => expect(Math.abs(loss - alone.losses[i])).toBeLessThan(1e-5 * Math.max(1, Math.abs(alone.losses[i]))));
    } finally {
      group.dispose();
    }
  });
});

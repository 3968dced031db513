#!/usr/bin/env node
// The similarity engine against numpy (bench/similarity_numpy.py, /usr/bin/python3's numpy on whatever BLAS it links)
// on the same float32 activations, both sides given the same threads, in one run, rounds alternating engine and numpy;
// each side's median over the rounds is reported (default 3, after one untimed round of each side).
//   independent: PAIRS distinct pairs of (DATAPOINTS x NEURONS) per side (default 8 of 20,000 x 512); the peer is an
//     svcca-style get_cca_similarity per pair (covariance of the stacked neurons, pinv, inverse square roots, SVD).
//   shared: MODELS models x LAYERS layers of (DATAPOINTS x SHARED_NEURONS) (default 4 x 6 of 20,000 x 256), every pair
//     of models at each layer (the paper's Figures 2-4 pattern), one similarityBatch for all of them, against two
//     peers in the same rounds: numpy-svcca's way, get_cca_similarity once per pair (`numpy`, `ratio`), and numpy
//     written with the engine's reuse, each activation centred, multiplied and whitened once, each pair then one
//     cross product and one SVD (`reuse`: what is left when both sides skip the repeated work).
//   alone: on the independent pairs, the engine asked for one metric (Procrustes; Williams et al.'s shape metric at
//     alpha 0.5) against numpy computing that metric alone (Ding et al.'s distance; netrep's LinearMetric).
//   rbf: RBF_PAIRS pairs of (RBF_DATAPOINTS x RBF_NEURONS) (default 4 of 4,000 x 128): the engine's rbfCka against
//     Kornblith et al.'s notebook's gram_rbf / center_gram in numpy.
//   heatmap: minibatch CKA of two HEATMAP_MODEL models (default resnet50) over every layer, HEATMAP_IMAGES probe images
//     (default 128) of HEATMAP_SIZE px in minibatches of HEATMAP_BATCH: images/s, layer pairs/s and the process's peak
//     resident memory (run first, so the peak is its own). No peer: the figure is throughput and bounded memory.
// Also the machine's float64 GEMM rate (X^T Y of DATAPOINTS x NEURONS, best of 3: numpy's BLAS and, where python3 has
// it, torch.mm, LibTorch's BLAS), the engine's Gram-phase rate (work.gramFlops over work.gramThreadSeconds / threads)
// and its fraction of the best measured GEMM rate, the whole batch's fraction of the GEMM bound for its Gram work (the
// products' flops at the best rate, over the engine's wall time), where the engine's threads spent the fastest round
// (work.phases: Gram, input, centring, factorisation, each metric, idle; thread-seconds), and the BLAS numpy ran on
// (warning loudly on the reference BLAS).
// `--json` prints one JSON object; see README (Benchmark) for the command and a measured run.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const yargs = require('yargs');
const tn = require('../dist/src/index.js');

const args = yargs(process.argv.slice(2))
  .option('pairs', { type: 'number', default: 8, describe: 'independent pairs (0: skip)' })
  .option('datapoints', { type: 'number', default: 20000 })
  .option('neurons', { type: 'number', default: 512, describe: 'neurons per side of the independent pairs' })
  .option('models', { type: 'number', default: 4, describe: 'shared batch: models (0: skip the shared batch)' })
  .option('layers', { type: 'number', default: 6, describe: 'shared batch: layers per model' })
  .option('shared-neurons', { type: 'number', default: 256, describe: 'shared batch: neurons per layer' })
  .option('shared-peer', {
    choices: ['both', 'pairwise', 'reuse'],
    default: 'both',
    describe: "shared batch: numpy calling an svcca-style get_cca_similarity per pair (pairwise), numpy with the engine's reuse (reuse), or both",
  })
  .option('rbf-pairs', { type: 'number', default: 4, describe: 'RBF CKA pairs (0: skip)' })
  .option('rbf-datapoints', { type: 'number', default: 4000 })
  .option('rbf-neurons', { type: 'number', default: 128 })
  .option('heatmap-model', { type: 'string', default: 'resnet50' })
  .option('heatmap-images', { type: 'number', default: 128, describe: 'minibatch CKA heatmap probe images (0: skip)' })
  .option('heatmap-size', { type: 'number', default: 64 })
  .option('heatmap-batch', { type: 'number', default: 32 })
  .option('heatmap-device', { type: 'string', default: 'cpu', describe: 'where the heatmap models run (cuda on a GPU machine)' })
  .option('rounds', { type: 'number', default: 3 })
  .option('warmup', { type: 'number', default: 1, describe: 'untimed rounds of each side first (fresh memory, loaded libraries)' })
  .option('threads', { type: 'number', default: os.availableParallelism() })
  .option('python', { type: 'string', default: '/usr/bin/python3' })
  .option('json', { type: 'boolean', default: false })
  .strict()
  .parseSync();

// OpenBLAS reads these at load and some machines set them to values that slow it: not for the peer in this command.
const peerEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'OPENBLAS_CORETYPE' && k !== 'OPENBLAS_L2_SIZE'));

function python(...rest) {
  const r = spawnSync(args.python, [path.join(__dirname, 'similarity_numpy.py'), ...rest.map(String)], { encoding: 'utf8', maxBuffer: 1 << 26, env: peerEnv });
  if (r.status !== 0) throw new Error(`${args.python} bench/similarity_numpy.py ${rest[0]} failed: ${r.stderr || r.error}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() || 'null');
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

// One case: `warmup` untimed rounds, then `rounds` x (the engine's batch, then each peer's), each side's median, the
// ratio peer / engine of the medians. peers: [[name, args for similarity_numpy.py]], the first the case's `numpy`.
// The untimed round matters on a virtual machine: memory the guest touches for the first time costs the hypervisor's
// work too (the engine's first batch of the shared case here: 3.6 s against 1.7-1.9 s after, with 1.9 s of system
// time in page faults), and whichever side ran first would pay it.
async function measure(inputs, pairs, peers, gemmRate) {
  for (let r = 0; r < args.warmup; r++) {
    await tn.similarityBatch(inputs, pairs);
    for (const [, peerArgs] of peers) python(...peerArgs);
  }
  const engine = [], numpy = peers.map(() => []), last = [];
  let results, peer, work;
  for (let r = 0; r < args.rounds; r++) {
    const t0 = process.hrtime.bigint();
    results = await tn.similarityBatch(inputs, pairs);
    engine.push(Number(process.hrtime.bigint() - t0) / 1e9);
    work = work && work.seconds <= results[0].work.seconds ? work : results[0].work;  // the fastest round's
    peers.forEach(([, peerArgs], k) => {
      const out = python(...peerArgs);
      if (k === 0) peer = out;
      last[k] = out;
      numpy[k].push(out.seconds);
    });
  }
  const seconds = median(engine), gramRate = work.gramFlops / (work.gramThreadSeconds / args.threads) / 1e9;
  const others = Object.fromEntries(peers.slice(1).map(([name], k) => [name, { numpy: median(numpy[k + 1]), ratio: median(numpy[k + 1]) / seconds, rounds: numpy[k + 1] }]));
  return {
    engine: seconds,
    numpy: median(numpy[0]),
    ratio: median(numpy[0]) / seconds,
    rounds: { engine, numpy: numpy[0] },
    ...others,
    largestMeanCcaDifference: Math.max(...results.map((r, k) => Math.abs(r.meanCca - peer.mean_cca[k]))),
    work: { prepared: work.prepared, products: work.products, gramGflop: work.gramFlops / 1e9 },
    engineGflops: work.gramFlops / seconds / 1e9,
    gramPhaseGflops: gramRate,
    gramPhaseFraction: gramRate / gemmRate,
    // The whole batch against the machine's bound for its Gram work: the products' flops at the best GEMM rate.
    gemmBoundSeconds: work.gramFlops / (gemmRate * 1e9),
    wholeBatchFraction: work.gramFlops / (gemmRate * 1e9) / seconds,
    // Where the engine's threads spent the fastest round (thread-seconds, summing to its wall time x threads).
    phases: { threads: work.threads, seconds: work.seconds, threadSeconds: work.phases },
    // The route the engine measured fastest on this machine (GFLOP/s of each candidate, one thread).
    route: results[0].route,
    kernels: work.kernels,
    peerBlas: peer.blas,
  };
}

// One metric alone: the engine asked for `metric` (so each input is prepared only as far as it reads) against the peer
// computing that metric alone, rounds alternating; the peer's values (its JSON `key`) checked against the engine's.
async function measureAlone(inputs, pairs, metric, options, peerArgs, key) {
  const run = () => tn.similarityBatch(inputs, pairs, { metrics: [metric], ...options });
  for (let r = 0; r < args.warmup; r++) {
    await run();
    python(...peerArgs);
  }
  const engine = [], numpy = [];
  let results, out;
  for (let r = 0; r < args.rounds; r++) {
    const t0 = process.hrtime.bigint();
    results = await run();
    engine.push(Number(process.hrtime.bigint() - t0) / 1e9);
    out = python(...peerArgs);
    numpy.push(out.seconds);
  }
  return {
    engine: median(engine), numpy: median(numpy), ratio: median(numpy) / median(engine), rounds: { engine, numpy },
    largestDifference: Math.max(...results.map((r, k) => Math.abs(r[metric] - out[key][k]))), peerBlas: out.blas,
  };
}

// Minibatch CKA over every layer of two models (seeds 1 and 2) on embedded probe images: one untimed minibatch, then
// the whole probe timed once; the peak resident memory is the process's high-water mark after it.
async function heatmap() {
  const made = { numClasses: 1, device: args.heatmapDevice };
  const a = tn.createModel(args.heatmapModel, { seed: 1, ...made }), b = tn.createModel(args.heatmapModel, { seed: 2, ...made });
  const size = Math.max(args.heatmapSize, a.info().minInputSize);
  const warm = await tn.generateRetina({ count: args.heatmapBatch, size, seed: 1 });
  const probe = await tn.generateRetina({ count: args.heatmapImages, size, seed: 0 });
  try {
    await tn.minibatchCka(a, b, warm, { layers: 'all', batchSize: args.heatmapBatch });
    const t0 = process.hrtime.bigint();
    const h = await tn.minibatchCka(a, b, probe, { layers: 'all', batchSize: args.heatmapBatch });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const layers = h.stagesA.length;
    return {
      model: args.heatmapModel, device: args.heatmapDevice, layers, size, images: h.images, batch: args.heatmapBatch, batches: h.batches, seconds,
      imagesPerSecond: h.images / seconds, layerPairsPerSecond: (layers * layers * h.batches) / seconds,
      peakResidentBytes: process.resourceUsage().maxRSS * 1024,
      modelBytes: 2 * a.info().params.numel * 4,
    };
  } finally {
    [a, b, warm, probe].forEach((x) => x.dispose());
  }
}

(async () => {
  tn.setThreads(args.threads);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tn-bench-similarity-'));
  try {
    const gemm = python('gemm', args.datapoints, args.neurons, args.threads);
    const gemmRate = Math.max(...Object.values(gemm.gflops).filter((v) => typeof v === 'number'));
    const out = {
      threads: args.threads,
      torch: tn.versions().torch,
      gemm: { shape: [args.datapoints, args.neurons], gflops: gemm.gflops, best: gemmRate, blas: gemm.blas },
    };
    if (args.heatmapImages > 0) out.heatmap = await heatmap();
    const read = (name) => tn.readNpy(path.join(dir, name));
    if (args.pairs > 0) {
      python('make', dir, args.pairs, args.datapoints, args.neurons);
      const inputs = [];
      for (let k = 0; k < args.pairs; k++) inputs.push(await read(`a${k}.npy`), await read(`b${k}.npy`));
      const pairs = Array.from({ length: args.pairs }, (_, k) => [2 * k, 2 * k + 1]);
      // svcca-style CCA against the engine's batch of every default metric; then Procrustes and the shape metric each
      // alone on both sides.
      const peers = [['svcca', ['time', dir, args.pairs, args.threads]]];
      out.independent = { pairs: args.pairs, shape: [args.datapoints, args.neurons], ...(await measure(inputs, pairs, peers, gemmRate)) };
      out.independent.procrustes = await measureAlone(inputs, pairs, 'procrustes', {}, ['time-procrustes', dir, args.pairs, args.threads], 'procrustes');
      out.independent.shapeMetric = await measureAlone(inputs, pairs, 'shapeMetric', { shapeAlpha: 0.5 }, ['time-shape', dir, args.pairs, args.threads, 0.5], 'shape');
      inputs.length = 0;
    }
    if (args.rbfPairs > 0) {
      const rbfDir = path.join(dir, 'rbf');
      fs.mkdirSync(rbfDir);
      python('make', rbfDir, args.rbfPairs, args.rbfDatapoints, args.rbfNeurons);
      const inputs = [];
      for (let k = 0; k < args.rbfPairs; k++) inputs.push(await tn.readNpy(path.join(rbfDir, `a${k}.npy`)), await tn.readNpy(path.join(rbfDir, `b${k}.npy`)));
      const pairs = Array.from({ length: args.rbfPairs }, (_, k) => [2 * k, 2 * k + 1]);
      out.rbf = { pairs: args.rbfPairs, shape: [args.rbfDatapoints, args.rbfNeurons], ...(await measureAlone(inputs, pairs, 'rbfCka', { rbfBandwidth: 1 }, ['time-rbf', rbfDir, args.rbfPairs, args.threads, 1], 'rbf')) };
    }
    if (args.models > 1 && args.layers > 0) {
      python('make-shared', dir, args.models, args.layers, args.datapoints, args.sharedNeurons);
      const inputs = [], pairs = [];
      for (let l = 0; l < args.layers; l++) for (let m = 0; m < args.models; m++) inputs.push(await read(`m${m}l${l}.npy`));
      for (let l = 0; l < args.layers; l++)
        for (let i = 0; i < args.models; i++) for (let j = i + 1; j < args.models; j++) pairs.push([l * args.models + i, l * args.models + j]);
      // pairwise (numpy-svcca's get_cca_similarity per pair, as a numpy user calls it) first: the case's `numpy`.
      const sharedPeers = [
        ['pairwise', ['time-shared-pairwise', dir, args.models, args.layers, args.threads]],
        ['reuse', ['time-shared', dir, args.models, args.layers, args.threads]],
      ];
      out.shared = {
        models: args.models, layers: args.layers, pairs: pairs.length, shape: [args.datapoints, args.sharedNeurons], peer: args.sharedPeer,
        ...(await measure(inputs, pairs, sharedPeers.filter(([name]) => args.sharedPeer === 'both' || args.sharedPeer === name), gemmRate)),
      };
    }
    const blas = (out.independent || out.shared || out.gemm).peerBlas || gemm.blas;
    // Against Debian's reference BLAS the ratio says little about numpy as its users run it (OpenBLAS or MKL).
    if (blas?.reference)
      console.error(
        'WARNING: numpy ran on the reference BLAS (netlib libblas3), ~15x slower than OpenBLAS: this ratio overstates the engine. ' +
          'Install an optimised BLAS for the peer (Debian: apt-get install libopenblas0) and run again.',
      );
    if (args.json) {
      console.log(JSON.stringify(out));
      return;
    }
    const g = out.gemm;
    console.log(`similarity, ${args.threads} thread(s), LibTorch ${out.torch}, median of ${args.rounds} rounds per side`);
    console.log(`  float64 GEMM X^T Y of ${g.shape.join(' x ')}: ${Object.entries(g.gflops).filter(([, v]) => typeof v === 'number').map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')} GFLOP/s`);
    console.log(`  numpy's BLAS: ${blas?.name ?? '?'}${blas?.version ? ` ${blas.version}` : ''}${blas?.kernel ? `, kernel ${blas.kernel}` : ''}`);
    for (const [name, c] of [['independent pairs', out.independent], ['shared-activation batch', out.shared]]) {
      if (!c) continue;
      console.log(`  ${name}: ${c.pairs} pairs of ${c.shape.join(' x ')}${c.models ? ` (${c.models} models x ${c.layers} layers)` : ''}`);
      const first = c.peer === 'reuse' ? 'numpy with reuse' : 'numpy';
      console.log(`    engine ${c.engine.toFixed(2)} s, ${first} ${c.numpy.toFixed(2)} s, ratio ${first}/engine ${c.ratio.toFixed(2)}; mean CCA within ${c.largestMeanCcaDifference.toExponential(1)}`);
      if (c.reuse) console.log(`    numpy with the engine's reuse ${c.reuse.numpy.toFixed(2)} s, ratio ${c.reuse.ratio.toFixed(2)}`);
      for (const [metric, m] of Object.entries({ Procrustes: c.procrustes, 'shape metric (alpha 0.5)': c.shapeMetric }))
        if (m) console.log(`    ${metric} alone: engine ${m.engine.toFixed(2)} s, numpy ${m.numpy.toFixed(2)} s, ratio ${m.ratio.toFixed(2)}; within ${m.largestDifference.toExponential(1)}`);
      console.log(`    Gram phase ${c.gramPhaseGflops.toFixed(1)} GFLOP/s = ${(100 * c.gramPhaseFraction).toFixed(0)}% of the best GEMM rate; ${c.work.gramGflop.toFixed(1)} GFLOP in ${c.work.products} products, ${c.work.prepared} inputs prepared`);
      console.log(`    whole batch at ${(100 * c.wholeBatchFraction).toFixed(0)}% of the GEMM bound for its Gram work (${c.gemmBoundSeconds.toFixed(2)} s)`);
      console.log(`    route ${c.route} (measured at the first batch, one thread: ${Object.entries(c.kernels).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')} GFLOP/s)`);
      const spent = c.phases.seconds * c.phases.threads;
      console.log(`    where the threads' ${spent.toFixed(2)} s went: ${Object.entries(c.phases.threadSeconds).map(([k, v]) => `${k} ${v.toFixed(2)} s (${((100 * v) / spent).toFixed(0)}%)`).join(', ')}`);
    }
    if (out.rbf) {
      const r = out.rbf;
      console.log(`  RBF CKA: ${r.pairs} pairs of ${r.shape.join(' x ')}: engine ${r.engine.toFixed(2)} s, numpy ${r.numpy.toFixed(2)} s, ratio ${r.ratio.toFixed(2)}; within ${r.largestDifference.toExponential(1)}`);
    }
    if (out.heatmap) {
      const h = out.heatmap;
      console.log(`  minibatch CKA heatmap: ${h.model} x 2, ${h.layers} x ${h.layers} layers, ${h.images} images of ${h.size} px in ${h.batches} minibatches of ${h.batch}`);
      console.log(`    ${h.seconds.toFixed(2)} s: ${h.imagesPerSecond.toFixed(1)} images/s, ${h.layerPairsPerSecond.toFixed(0)} layer-pair HSICs/s; peak resident ${(h.peakResidentBytes / 2 ** 20).toFixed(0)} MiB (the two models' weights ${(h.modelBytes / 2 ** 20).toFixed(0)} MiB)`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
})().catch((err) => {
  console.error(`bench/similarity: ${err.message}`);
  process.exitCode = 1;
});

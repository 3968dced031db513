#!/usr/bin/env node
// The similarity engine against a numpy implementation of google/svcca's get_cca_similarity (bench/similarity_numpy.py,
// Debian python3-numpy) on the same data: a batch of PAIRS pairs of (N datapoints x P neurons) float32 activations per
// side (default 8 pairs of 20,000 x 512). Both sides get the same threads. Reports seconds for the batch, the ratio
// numpy / engine, the largest difference in mean CCA, and the BLAS numpy ran on (warning loudly on Debian's reference
// BLAS). `--json` prints {"engine": s, "numpy": s, "ratio": numpy/engine, "peerBlas": {name, version, kernel, ...}}.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const yargs = require('yargs');
const tn = require('../dist/src/index.js');

const args = yargs(process.argv.slice(2))
  .option('pairs', { type: 'number', default: 8 })
  .option('datapoints', { type: 'number', default: 20000 })
  .option('neurons', { type: 'number', default: 512 })
  .option('threads', { type: 'number', default: os.availableParallelism() })
  .option('python', { type: 'string', default: '/usr/bin/python3' })
  .option('json', { type: 'boolean', default: false })
  .strict()
  .parseSync();

// OpenBLAS reads these at load and some machines set them to values that slow it: not for the peer in this command.
const peerEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'OPENBLAS_CORETYPE' && k !== 'OPENBLAS_L2_SIZE'));

function python(...rest) {
  const r = spawnSync(args.python, [path.join(__dirname, 'similarity_numpy.py'), ...rest.map(String)], { encoding: 'utf8', maxBuffer: 1 << 26, env: peerEnv });
  if (r.status !== 0) throw new Error(`${args.python} bench/similarity_numpy.py failed: ${r.stderr || r.error}`);
  return r.stdout;
}

(async () => {
  tn.setThreads(args.threads);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tn-bench-similarity-'));
  try {
    python('make', dir, args.pairs, args.datapoints, args.neurons);
    const inputs = [];
    for (let k = 0; k < args.pairs; k++) inputs.push(await tn.readNpy(path.join(dir, `a${k}.npy`)), await tn.readNpy(path.join(dir, `b${k}.npy`)));
    const pairs = Array.from({ length: args.pairs }, (_, k) => [2 * k, 2 * k + 1]);
    const t0 = process.hrtime.bigint();
    const results = await tn.similarityBatch(inputs, pairs);
    const engine = Number(process.hrtime.bigint() - t0) / 1e9;
    const peer = JSON.parse(python('time', dir, args.pairs, args.threads).trim().split('\n').pop());
    const diff = Math.max(...results.map((r, k) => Math.abs(r.meanCca - peer.mean_cca[k])));
    const out = { engine, numpy: peer.seconds, ratio: peer.seconds / engine, peerBlas: peer.blas };
    // Against Debian's reference BLAS the ratio says little about numpy as its users run it (OpenBLAS or MKL).
    const warning = peer.blas?.reference
      ? 'WARNING: numpy ran on the reference BLAS (netlib libblas3), ~15x slower than OpenBLAS: this ratio overstates the engine. ' +
        'Install an optimised BLAS for the peer (Debian: apt-get install libopenblas0) and run again.'
      : undefined;
    if (warning) console.error(warning);
    if (args.json) console.log(JSON.stringify(out));
    else {
      console.log(`similarity batch: ${args.pairs} pairs of ${args.datapoints} x ${args.neurons} per side, ${args.threads} thread(s), LibTorch ${tn.versions().torch}`);
      console.log(`  engine: ${engine.toFixed(2)} s`);
      console.log(`  numpy : ${peer.seconds.toFixed(2)} s (svcca-style covariance route; BLAS: ${peer.blas?.name ?? '?'}${peer.blas?.version ? ` ${peer.blas.version}` : ''}${peer.blas?.kernel ? `, kernel ${peer.blas.kernel}` : ''})`);
      console.log(`  ratio numpy/engine: ${out.ratio.toFixed(2)}; largest mean-CCA difference ${diff.toExponential(1)}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
})().catch((err) => {
  console.error(`bench/similarity: ${err.message}`);
  process.exitCode = 1;
});

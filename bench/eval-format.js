#!/usr/bin/env node
// Evaluation's speed on the CPU, by its two settings: the batch of validation images per forward pass and the memory
// format. For each CBR model, at the quick preset's 40 px and 400 validation images, the median of 5 evaluate() calls
// (after one untimed call) at the engine's defaults (32 images, NHWC), at the Python peer's settings (128, NCHW: the
// `predict` of bench/study.py), and, in the same run, PyTorch from Python evaluating the same model at the peer's
// settings and at ours (bench/study.py's CBR models, the same images as .npy; /usr/bin/python3's torch).
// `--json` prints one JSON line per model. Usage: node bench/eval-format.js [--json] [--threads N]
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const yargs = require('yargs');
const tn = require('../dist/src/index.js');
const { encodeNpy } = require('../dist/src/data/files/npy.js');

const args = yargs(process.argv.slice(2))
  .option('threads', { type: 'number', default: os.availableParallelism(), describe: 'LibTorch threads, both sides' })
  .option('count', { type: 'number', default: 400, describe: 'validation images' })
  .option('size', { type: 'number', default: 40, describe: 'image side in pixels' })
  .option('json', { type: 'boolean', default: false })
  .strict().parseSync();

const PEER = `
import json, sys, time
import numpy as np, torch
sys.path.insert(0, sys.argv[1])
from study import build
torch.set_num_threads(int(sys.argv[3]))
x = torch.from_numpy(np.load(sys.argv[2]))
def timed(model, batch, channels_last):
    xs = x.contiguous(memory_format=torch.channels_last) if channels_last else x
    m = model.to(memory_format=torch.channels_last if channels_last else torch.contiguous_format)
    def once():
        with torch.no_grad():
            return torch.cat([m(xs[i:i + batch]) for i in range(0, len(xs), batch)])
    once()
    ts = []
    for _ in range(5):
        t = time.perf_counter(); once(); ts.append(time.perf_counter() - t)
    return sorted(ts)[2]
for name in sys.argv[4].split(","):
    model = build(name, 1, 0).eval()
    print(json.dumps({"model": name, "peer": timed(model, 128, False), "peerAtOurs": timed(model, 32, True)}))
`;

(async () => {
  tn.setThreads(args.threads);
  const models = ['cbr-largew', 'cbr-larget', 'cbr-small', 'cbr-tiny'];
  const data = await tn.generateRetina({ count: args.count, size: args.size, seed: 3 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eval-format-'));
  const images = data.images();
  fs.writeFileSync(path.join(dir, 'x.npy'), encodeNpy(images.shape, images.data, '<f4'));
  const py = spawnSync('/usr/bin/python3', ['-c', PEER, __dirname, path.join(dir, 'x.npy'), String(args.threads), models.join(',')], { encoding: 'utf8' });
  fs.rmSync(dir, { recursive: true, force: true });
  if (py.status !== 0) throw new Error(`the PyTorch peer failed: ${py.stderr}`);
  const peer = Object.fromEntries(py.stdout.trim().split('\n').map((l) => JSON.parse(l)).map((r) => [r.model, r]));
  for (const name of models) {
    const model = tn.createModel(name, { numClasses: 1, seed: 0 });
    const median = async (o) => {
      await tn.evaluate(model, data, o);
      const ts = [];
      for (let i = 0; i < 5; i++) {
        const t = process.hrtime.bigint();
        await tn.evaluate(model, data, o);
        ts.push(Number(process.hrtime.bigint() - t) / 1e9);
      }
      return ts.sort((a, b) => a - b)[2];
    };
    const ours = await median({}), oursAtPeer = await median({ batchSize: 128, channelsLast: false });
    const p = peer[name];
    const row = { model: name, threads: args.threads, images: args.count, size: args.size, ours, oursAtPeerSettings: oursAtPeer, python: p.peer, pythonAtOurSettings: p.peerAtOurs, ratio: p.peer / ours };
    console.log(args.json ? JSON.stringify(row) : `${name}: ours ${ours.toFixed(3)} s (at the peer's 128/NCHW ${oursAtPeer.toFixed(3)} s); python ${p.peer.toFixed(3)} s (at our 32/NHWC ${p.peerAtOurs.toFixed(3)} s); python/ours ${(p.peer / ours).toFixed(2)}`);
    model.dispose();
  }
  data.dispose();
})().catch((err) => {
  console.error(err);
  process.exit(1);
});

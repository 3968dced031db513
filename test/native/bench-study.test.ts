// `bench study`: the same study in PyTorch from Python and ours, on the same data, as JSON; the peer really trains.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { PYTHON } from '../helpers/python';
import { tunedPeerEnvironment } from '../../src/runtime';
import { tempDir } from '../helpers/tmp';

const bin = path.resolve(__dirname, '../../bin/transfusion-native.js');
const dir = tempDir('bench-study');

// Asynchronous, so jest's timeout can stop it; TRANSFUSION_CACHE is left alone: the bench uses its own empty caches.
function cli(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, TRANSFUSION_THREADS: '2' } });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('transfusion-native bench study', () => {
  it('runs a tiny study on both sides and prints the ratio and each phase as JSON, from the same data', async () => {
    const work = path.join(dir, 'work');
    const r = await cli('bench', 'study', '--preset', 'tiny', '--models', 'cbr-tiny', '--seeds', '2', '--steps', '6', '--pretrain-steps', '4',
      '--repeats', '1', '--python', PYTHON, '--work-dir', work);
    expect(r.status).toBe(0);
    const tuned = tunedPeerEnvironment();
    const tunedText = tuned ? `; python\\+${tuned.allocator} in 2 process\\(es\\), validation batch \\d+: \\d+\\.\\d s \\(pretraining \\d+\\.\\d, training \\d+\\.\\d, evaluation \\d+\\.\\d s\\)` : '';
    expect(r.stderr).toMatch(new RegExp(`^repeat 1/1: study ours \\d+\\.\\d s, python \\d+\\.\\d s \\(ours: pretraining \\d+\\.\\d, training \\d+\\.\\d, evaluation \\d+\\.\\d job s; python: pretraining \\d+\\.\\d, training \\d+\\.\\d, evaluation \\d+\\.\\d s\\)${tunedText}$`, 'm'));
    const out = JSON.parse(r.stdout);
    // The tuned peer (jemalloc or tcmalloc preloaded), wherever one is installed (CI installs libjemalloc2).
    if (tuned) {
      expect(out.tuned).toMatchObject({ allocator: tuned.allocator, library: tuned.library, study: { ours: out.study.ours, python: expect.any(Number), ratio: expect.any(Number) } });
      expect(out.tuned.ratio).toBeCloseTo(out.tuned.study.python / out.study.ours, 10);
      // Its runs spread over as many one-thread processes as ours keeps in flight (2 threads: 2), and the validation
      // batch it timed fastest, one of its candidates (64 and the whole validation set of the tiny preset, 128 images).
      expect(out.tuned.processes).toBe(out.concurrency);
      expect(out.tuned.processes).toBe(2);
      expect([64, 128]).toContain(out.tuned.evalBatch);
    } else {
      expect(out.tuned).toBeUndefined();
    }
    // Ours validates at the batch it measured per model before its timed study (32 to the 128 validation images).
    expect(Object.keys(out.evalBatches)).toEqual(['cbr-tiny 32']);
    expect([32, 64, 128]).toContain(out.evalBatches['cbr-tiny 32']);
    expect(r.stderr).not.toContain('measured a validation batch inside its timed seconds');
    const phase = { ours: expect.any(Number), python: expect.any(Number), ratio: expect.any(Number) };
    expect(out).toMatchObject({ ratio: expect.any(Number), study: phase, pretraining: phase, training: phase, evaluation: phase, runs: 4, repeats: 1, threads: 2, cpuAllocator: expect.stringMatching(/^(reusing|libtorch)$/) });
    expect(out.ratio).toBeCloseTo(out.study.python / out.study.ours, 10);
    for (const key of ['study', 'pretraining', 'training', 'evaluation']) {
      expect(out[key].ours).toBeGreaterThan(0);
      expect(out[key].python).toBeGreaterThan(0);
    }
    // The peer really trained: every run of ours has its peer, with the same steps and an AUC of its own.
    expect(out.perRun.map((r: { model: string; init: string; seed: number }) => [r.model, r.init, r.seed])).toEqual([
      ['cbr-tiny', 'random', 0], ['cbr-tiny', 'random', 1], ['cbr-tiny', 'transfer', 0], ['cbr-tiny', 'transfer', 1],
    ]);
    for (const run of out.perRun) {
      expect(run.steps).toEqual({ ours: 6, python: 6 });
      for (const auc of [run.auc.ours, run.auc.python]) {
        expect(auc).toBeGreaterThanOrEqual(0);
        expect(auc).toBeLessThanOrEqual(1);
      }
    }
    expect(out.pretrained).toEqual([{ model: 'cbr-tiny', top1: expect.any(Object), top5: expect.any(Object) }]);
    expect(out.pretrained[0].top5.python).toBeGreaterThanOrEqual(out.pretrained[0].top1.python);
    // Both sides read the same images: the .npy files the peer loaded are the study's draws.
    const study = JSON.parse(fs.readFileSync(path.join(work, 'data', 'study.json'), 'utf8'));
    expect(study).toMatchObject({ threads: 2, pretrainModels: ['cbr-tiny'], train: { steps: 6, batchSize: 16 }, pretrain: { steps: 4, classes: 20 } });
    expect(study.train.learningRates).toHaveLength(6);
    const npy = fs.readFileSync(path.join(work, 'data', 'task_train_x.npy'));
    expect(npy.subarray(0, 6).toString('latin1')).toBe('\x93NUMPY');
    expect(npy.toString('latin1', 10, 80)).toContain("'shape': (256, 3, 32, 32)");
  }, 300000);

  it('refuses a study the peer cannot run, naming it', async () => {
    const r = await cli('bench', 'study', '--preset', 'tiny', '--models', 'resnet50', '--python', PYTHON);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('bench study compares CBR models with random and transfer initialisations; "resnet50" random has no peer');
  }, 60000);
});

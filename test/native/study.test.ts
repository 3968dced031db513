import * as fs from 'node:fs';
import * as path from 'node:path';

import { checkStudyArguments } from '../../src/experiments/study-options';
import { METRICS, preset, runStudy, type StudyResults, studyReport } from '../../src';
import { tempDir } from '../helpers/tmp';

const dir = tempDir('study');
const spec = () => ({ ...preset('tiny'), models: ['cbr-tiny'] });
const read = (out: string): StudyResults => JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));

describe('runStudy', () => {
  it('gives the same numbers for the same seeds on CPU', async () => {
    const cacheDir = path.join(dir, 'cache');
    const a = await runStudy(spec(), { report: studyReport, outDir: path.join(dir, 'a'), cacheDir });
    const b = await runStudy(spec(), { report: studyReport, outDir: path.join(dir, 'b'), cacheDir });
    expect(a.runs.map((r) => r.auc)).toEqual(b.runs.map((r) => r.auc));
    expect(a.runs.map((r) => r.finalLoss)).toEqual(b.runs.map((r) => r.finalLoss));
    expect(b.pretraining[0].cached).toBe(true);
    expect(read(path.join(dir, 'b')).runs).toHaveLength(4);
  });

  it('keeps every finished run when it is aborted, and marks the study unfinished', async () => {
    const out = path.join(dir, 'aborted');
    const controller = new AbortController();
    // Runs may finish out of order (several in flight): abort once two have ended, whichever they are.
    let ended = 0;
    const run = runStudy(spec(), {
      report: studyReport,
      outDir: out,
      cacheDir: path.join(dir, 'cache'),
      signal: controller.signal,
      onProgress: (e) => {
        if (e.kind === 'run-end' && ++ended === 2) controller.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ code: 'ABORT_ERR' });
    const saved = read(out);
    // The two that ended, and any other in flight that finished its last step before the abort reached it.
    expect(saved.runs.length).toBeGreaterThanOrEqual(2);
    expect(saved.runs.length).toBeLessThan(4);
    for (const r of saved.runs) expect(r.steps).toBe(spec().train.steps);
    expect(saved.finishedAt).toBeUndefined();
    expect(fs.readFileSync(path.join(out, 'report.md'), 'utf8')).toContain(`_In progress: ${saved.runs.length} run(s) finished so far._`);
    expect(fs.readdirSync(out).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('gives a model its own image size when the spec asks (the scaled input of ResNet-50)', async () => {
    const r = await runStudy({ ...spec(), inits: ['random'], seeds: [0], imageSizes: { 'cbr-tiny': 40 } }, { outDir: path.join(dir, 'sizes'), cacheDir: path.join(dir, 'cache') });
    expect(r.runs.map((x) => x.imageSize)).toEqual([40]);
    expect(r.models[0].imageSize).toBe(40);
    // Without `report` a study writes its results alone: the report is its caller's (the CLI passes studyReport).
    expect(fs.readdirSync(path.join(dir, 'sizes')).sort()).toEqual(['results.json']);
    expect(() => checkStudyArguments(spec(), { outDir: 'x', report: { markdown: () => '' } })).toThrow('Expected `report` to be a StudyReport ({ markdown, write }), e.g. studyReport');
  });

  it('names a bad spec before doing any work', async () => {
    await expect(runStudy({ ...spec(), models: ['cbr-huge'] }, { report: studyReport, outDir: path.join(dir, 'bad') })).rejects.toThrow(
      'Expected `models` to be model names from: cbr-larget, cbr-largew, cbr-small, cbr-tiny, cbr-tiny-appendix, resnet50, resnet50-slim, inception_v3, densenet121 but received "cbr-huge"',
    );
    await expect(runStudy({ ...spec(), seeds: [] }, { report: studyReport, outDir: path.join(dir, 'bad') })).rejects.toThrow('Expected `seeds` to be a non-empty list of seeds');
    await expect(runStudy({ ...spec(), imageSizes: { 'cbr-tiny': 8 } }, { report: studyReport, outDir: path.join(dir, 'bad') })).rejects.toThrow(
      'Expected `imageSizes.cbr-tiny` to be an integer in [16, 1024] but received 8',
    );
    await expect(runStudy({ ...spec(), arms: [{ model: 'cbr-small', init: 'transfusion:conv1' }] }, { report: studyReport, outDir: path.join(dir, 'bad') })).rejects.toThrow(
      'Expected `init` to be a transfusion point among cbr-small\'s stages (layer1, layer2, layer3, layer4, head) but received "transfusion:conv1"',
    );
    await expect(runStudy({ ...spec(), arms: [{ model: 'cbr-small', init: 'slim' }] }, { report: studyReport, outDir: path.join(dir, 'bad') })).rejects.toThrow(
      'Expected `init` to be used with resnet50 ("slim" is a ResNet-50 hybrid) but received "cbr-small slim"',
    );
    expect(fs.existsSync(path.join(dir, 'bad'))).toBe(false);
  });
});

describe('runs that survive', () => {
  const bin = path.resolve(__dirname, '../../bin/transfusion-native.js');
  const cacheDir = path.join(dir, 'cache');

  it('resumes a study killed with SIGKILL mid-run: no finished run lost or repeated, the run in progress continued from its checkpoint, the results of an uninterrupted run', async () => {
    const { spawn, spawnSync } = await import('node:child_process');
    const { checkpointPath } = await import('../../src/experiments/rundir');
    // A study file: the tiny preset with runs long enough to be killed between two checkpoints.
    const config = path.join(dir, 'long-runs.json');
    fs.writeFileSync(config, JSON.stringify({ preset: 'tiny', models: ['cbr-tiny'], train: { steps: 40, evalEvery: 10 } }));
    // One run at a time: run 1 recorded while run 2 is killed (several in flight: test/native/study-concurrency.test.ts).
    const args = (out: string) => ['run', '--config', config, '--out', out, '--cache-dir', cacheDir, '--checkpoint-every', '5', '--concurrency', '1', '--json'];
    const events = (stdout: string) => stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    const whole = path.join(dir, 'whole');
    expect(spawnSync(process.execPath, [bin, ...args(whole)], { encoding: 'utf8' }).status).toBe(0);

    const out = path.join(dir, 'killed');
    const child = spawn(process.execPath, [bin, ...args(out)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let buffered = '';
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        // Killed once run 2 has written its checkpoint at step 10 (of 40).
        if (events(buffered).some((e) => e.kind === 'train' && e.phase === 'run' && e.index === 2 && e.event.kind === 'checkpoint' && e.event.step === 10)) child.kill('SIGKILL');
      });
      child.on('exit', () => resolve());
    });
    const killed = read(out);
    expect(killed.runs).toHaveLength(1);  // run 1 recorded, run 2 in progress
    expect(killed.finishedAt).toBeUndefined();
    const checkpoint = checkpointPath(out, 'cbr-tiny', 'random', 1);
    expect(fs.existsSync(checkpoint)).toBe(true);
    expect(fs.existsSync(path.join(out, '.lock'))).toBe(true);  // left by the killed process: stale, taken over below

    const resumed = spawnSync(process.execPath, [bin, 'run', '--resume', out, '--cache-dir', cacheDir, '--checkpoint-every', '5', '--concurrency', '1', '--json'], { encoding: 'utf8' });
    expect(resumed.stderr).toBe('');
    expect(resumed.status).toBe(0);
    const trained = events(resumed.stdout).filter((e) => e.kind === 'train' && e.phase === 'run');
    expect(trained.some((e) => e.index === 1)).toBe(false);  // the finished run is not trained again
    const resumedAt = trained.find((e) => e.index === 2 && e.event.kind === 'resume').event.step;
    expect(resumedAt).toBeGreaterThanOrEqual(10);
    expect(trained.find((e) => e.index === 2 && e.event.kind === 'step').event.step).toBe(resumedAt + 1);
    const done = read(out);
    expect(done.runs).toHaveLength(4);
    expect(done.runs[0]).toEqual(killed.runs[0]);  // kept as recorded (same wall time: not run again)
    expect(done.runs[1].resumedFrom).toBe(resumedAt);
    const science = (r: StudyResults) => r.runs.map((x) => [x.init, x.seed, x.auc, x.finalLoss, x.curve, x.stepsToThreshold]);
    expect(science(done)).toEqual(science(read(whole)));
    expect(done.finishedAt).toBeDefined();
    expect(fs.existsSync(path.join(out, '.lock'))).toBe(false);
    expect(fs.existsSync(path.join(out, 'checkpoints'))).toBe(false);  // each removed once its run was recorded
    // Flags that would change the study are refused, not ignored.
    const changed = spawnSync(process.execPath, [bin, 'run', '--resume', out, '--models', 'cbr-small'], { encoding: 'utf8' });
    expect(changed.status).toBe(2);
    expect(changed.stderr).toContain(`--resume continues the study recorded in ${out}/results.json; drop --models`);
  }, 180000);

  it('refuses a checkpoint of another run, naming the file', async () => {
    const { checkpointPath } = await import('../../src/experiments/rundir');
    const out = path.join(dir, 'foreign');
    const s = { ...spec(), inits: ['random'], seeds: [0] };
    await runStudy(s, { report: studyReport, outDir: out, cacheDir });
    // A checkpoint left by seed 0's run where seed 0's run of a study with another batch size would look for it.
    const { createModel } = await import('../../src');
    const { train } = await import('../../src/train');
    const { generateRetina } = await import('../../src/data/embedded');
    const data = await generateRetina({ count: 64, size: 32, seed: 1 });
    const net = createModel('cbr-tiny', { numClasses: 1, seed: 0 });
    const file = checkpointPath(out, 'cbr-tiny', 'random', 0);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    await train(net, { train: data, val: data }, { steps: 4, batchSize: 8, schedule: { kind: 'constant', lr: 1e-3 }, optimizer: 'adam', checkpointPath: file, checkpointEvery: 2, seed: 0 });
    expect(fs.existsSync(file)).toBe(true);
    await expect(train(net, { train: data, val: data }, { steps: 4, batchSize: 16, schedule: { kind: 'constant', lr: 1e-3 }, optimizer: 'adam', checkpointPath: file, resume: true, seed: 0 }))
      .rejects.toMatchObject({ code: 'ERR_BAD_DATA', message: `The checkpoint ${file} is not one of this run (its model, seed, batch size, steps or optimizer differ); remove it to train from the start` });
    fs.writeFileSync(file, 'not a checkpoint');
    await expect(train(net, { train: data, val: data }, { steps: 4, batchSize: 8, schedule: { kind: 'constant', lr: 1e-3 }, optimizer: 'adam', checkpointPath: file, resume: true, seed: 0 }))
      .rejects.toMatchObject({ code: 'ERR_BAD_DATA', message: expect.stringContaining(`Cannot read the checkpoint ${file}`) });
    net.dispose();
    data.dispose();
  });

  it('says so clearly when the disk is full, and leaves results.json whole', async () => {
    const { spawnSync } = await import('node:child_process');
    const mnt = path.join(dir, 'small-disk');
    fs.mkdirSync(mnt);
    // A 2 MiB file system: results.json fits, a checkpoint of CBR-Tiny (~13 MB with Adam's moments) does not.
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt]);
    if (mounted.status !== 0) {
      console.warn(`skipped: cannot mount a small tmpfs here (${mounted.stderr?.toString().trim() || 'not root'})`);
      return;
    }
    try {
      const out = path.join(mnt, 'run');
      await expect(runStudy({ ...spec(), inits: ['random'], seeds: [0] }, { report: studyReport, outDir: out, cacheDir, checkpointEvery: 2 })).rejects.toMatchObject({
        code: 'ERR_IO',
        message: expect.stringMatching(new RegExp(`^Cannot write the checkpoint ${out}/checkpoints/cbr-tiny-random-seed0\\.pt\\.tmp: .*\\(no space left on the device\\)`)),
      });
      const saved = read(out);  // parses: never torn
      expect(saved.runs).toEqual([]);
      expect(fs.readdirSync(path.join(out, 'checkpoints'))).toEqual([]);  // no partial checkpoint left behind
      // And a write of results.json itself that does not fit.
      const { writeFileAtomic } = await import('../../src/io/atomic');
      expect(() => writeFileAtomic(path.join(out, 'results.json'), 'x'.repeat(4 << 20))).toThrow(
        `Cannot write ${out}/results.json: no space left on the device (ENOSPC); its previous content, if any, is intact`,
      );
      expect(read(out).runs).toEqual([]);
    } finally {
      spawnSync('umount', [mnt]);
    }
  });

  it('refuses a run directory another live process holds, and names it', async () => {
    const { lockRunDir } = await import('../../src/experiments/rundir');
    const out = path.join(dir, 'locked');
    fs.mkdirSync(out, { recursive: true });
    const release = lockRunDir(out);
    await expect(runStudy(spec(), { report: studyReport, outDir: out, cacheDir })).rejects.toMatchObject({ code: 'ERR_LOCKED', message: expect.stringContaining(`is being written by process ${process.pid}`) });
    release();
    fs.writeFileSync(path.join(out, '.lock'), JSON.stringify({ pid: 2 ** 22 + 12345, host: (await import('node:os')).hostname() }));  // no such process
    const r = await runStudy({ ...spec(), inits: ['random'], seeds: [0] }, { report: studyReport, outDir: out, cacheDir });
    expect(r.runs).toHaveLength(1);
    const file = path.join(dir, 'not-a-dir');
    fs.writeFileSync(file, 'x');
    await expect(runStudy(spec(), { report: studyReport, outDir: path.join(file, 'sub'), cacheDir })).rejects.toThrow(`Cannot create the run directory ${path.join(file, 'sub')}`);
  });

  it('rebuilds report.md from results.json alone, and lists what there is', async () => {
    const { spawnSync } = await import('node:child_process');
    const out = path.join(dir, 'whole');
    const before = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
    // The study drew its figures when it finished: Table 1's bars and the convergence curves (validation every 10 steps).
    expect(fs.readdirSync(path.join(out, 'figures')).sort()).toEqual(['convergence.png', 'convergence.svg', 'table-1.png', 'table-1.svg']);
    // Each curve starts at step 0, the untrained model (issue 31), and so does the figure's line.
    for (const run of read(out).runs) expect(run.curve.map((p) => p.step)).toEqual(Array.from({ length: run.steps / 10 + 1 }, (_, i) => 10 * i));
    const rows = fs.readFileSync(path.join(out, 'curves.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    expect(rows.filter((x) => x[3] === '0')).toHaveLength(read(out).runs.length);
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).toContain('id="table-1"');
    fs.rmSync(path.join(out, 'report.md'));
    fs.rmSync(path.join(out, 'report.html'));
    fs.rmSync(path.join(out, 'figures'), { recursive: true });
    const r = spawnSync(process.execPath, [bin, 'report', out], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(fs.readFileSync(path.join(out, 'report.md'), 'utf8')).toBe(before);
    expect(fs.readFileSync(path.join(out, 'report.html'), 'utf8')).toBe(html);
    expect(fs.readdirSync(path.join(out, 'figures'))).toHaveLength(4);
    expect(r.stderr).toBe(`wrote 8 files: ${out}/report.md, ${out}/report.html, ${out}/runs.csv, ${out}/curves.csv, ${out}/figures/\n`);
    expect(r.stdout).toBe(before);
    const missing = spawnSync(process.execPath, [bin, 'report', path.join(dir, 'nothing')], { encoding: 'utf8' });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('holds no results.json to resume or report');
    const list = JSON.parse(spawnSync(process.execPath, [bin, 'list', '--json'], { encoding: 'utf8' }).stdout);
    expect(list.experiments.map((e: { name: string }) => e.name)).toContain('init-vs-final');
    // The similarity metrics as the engine's table lists them (names, direction, range, reference).
    expect(list.metrics.map((m: { name: string }) => m.name)).toEqual(METRICS.filter((m) => m !== 'ccaCoefficients'));
    expect(list.metrics.find((m: { name: string }) => m.name === 'rbfCka')).toMatchObject({ direction: 'similarity', byDefault: false, reference: 'Kornblith et al. 2019' });
    expect(spawnSync(process.execPath, [bin, 'list'], { encoding: 'utf8' }).stdout).toMatch(/^ {2}rbfCka \* +similarity +\[0, 1\] +CKA of Gaussian RBF kernels/m);
    expect(list.formats).toEqual(['eyepacs', 'chexpert', 'medmnist', 'folder', 'fashion-mnist', 'nih-chestxray14', 'mimic-cxr', 'rsna-pneumonia', 'aptos2019', 'messidor2', 'idrid']);
  });
});

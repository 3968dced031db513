import * as fs from 'node:fs';
import * as path from 'node:path';

import { preset, runStudy, type StudyResults } from '../../src';
import { tempDir } from '../helpers/tmp';

const dir = tempDir('study');
const spec = () => ({ ...preset('tiny'), models: ['cbr-tiny'] });
const read = (out: string): StudyResults => JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));

describe('runStudy', () => {
  it('gives the same numbers for the same seeds on CPU', async () => {
    const cacheDir = path.join(dir, 'cache');
    const a = await runStudy(spec(), { outDir: path.join(dir, 'a'), cacheDir });
    const b = await runStudy(spec(), { outDir: path.join(dir, 'b'), cacheDir });
    expect(a.runs.map((r) => r.auc)).toEqual(b.runs.map((r) => r.auc));
    expect(a.runs.map((r) => r.finalLoss)).toEqual(b.runs.map((r) => r.finalLoss));
    expect(b.pretraining[0].cached).toBe(true);
    expect(read(path.join(dir, 'b')).runs).toHaveLength(4);
  });

  it('keeps every finished run when it is aborted, and marks the study unfinished', async () => {
    const out = path.join(dir, 'aborted');
    const controller = new AbortController();
    const run = runStudy(spec(), {
      outDir: out,
      cacheDir: path.join(dir, 'cache'),
      signal: controller.signal,
      onProgress: (e) => {
        if (e.type === 'run-end' && e.index === 2) controller.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ code: 'ABORT_ERR' });
    const saved = read(out);
    expect(saved.runs).toHaveLength(2);
    expect(saved.finishedAt).toBeUndefined();
    expect(fs.readFileSync(path.join(out, 'report.md'), 'utf8')).toContain('_In progress: 2 run(s) finished so far._');
    expect(fs.readdirSync(out).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('gives a model its own image size when the spec asks (the scaled input of ResNet-50)', async () => {
    const r = await runStudy({ ...spec(), inits: ['random'], seeds: [0], imageSizes: { 'cbr-tiny': 40 } }, { outDir: path.join(dir, 'sizes'), cacheDir: path.join(dir, 'cache') });
    expect(r.runs.map((x) => x.imageSize)).toEqual([40]);
    expect(r.models[0].imageSize).toBe(40);
  });

  it('names a bad spec before doing any work', async () => {
    await expect(runStudy({ ...spec(), models: ['cbr-huge'] }, { outDir: path.join(dir, 'bad') })).rejects.toThrow(
      'Expected `models` to be model names from: cbr-larget, cbr-largew, cbr-small, cbr-tiny, cbr-tiny-appendix, resnet50, resnet50-slim, inception_v3 but received "cbr-huge"',
    );
    await expect(runStudy({ ...spec(), seeds: [] }, { outDir: path.join(dir, 'bad') })).rejects.toThrow('Expected `seeds` to be a non-empty list of seeds');
    await expect(runStudy({ ...spec(), imageSizes: { 'cbr-tiny': 8 } }, { outDir: path.join(dir, 'bad') })).rejects.toThrow(
      'Expected `imageSizes.cbr-tiny` to be an integer in [16, 1024] but received 8',
    );
    await expect(runStudy({ ...spec(), arms: [{ model: 'cbr-small', init: 'transfusion:conv1' }] }, { outDir: path.join(dir, 'bad') })).rejects.toThrow(
      'Expected `init` to be a transfusion point among cbr-small\'s stages (layer1, layer2, layer3, layer4, head) but received "transfusion:conv1"',
    );
    await expect(runStudy({ ...spec(), arms: [{ model: 'cbr-small', init: 'slim' }] }, { outDir: path.join(dir, 'bad') })).rejects.toThrow(
      'Expected `init` to be used with resnet50 ("slim" is a ResNet-50 hybrid) but received "cbr-small slim"',
    );
    expect(fs.existsSync(path.join(dir, 'bad'))).toBe(false);
  });
});

describe('runs that survive', () => {
  const bin = path.resolve(__dirname, '../../bin/transfusion-native.js');
  const cacheDir = path.join(dir, 'cache');
  const args = (out: string) => ['run', '--preset', 'tiny', '--models', 'cbr-tiny', '--out', out, '--cache-dir', cacheDir, '--json'];

  it('resumes a study killed with SIGKILL: no finished run lost or repeated, the results of an uninterrupted run', async () => {
    const { spawn, spawnSync } = await import('node:child_process');
    const whole = path.join(dir, 'whole');
    expect(spawnSync(process.execPath, [bin, ...args(whole)], { encoding: 'utf8' }).status).toBe(0);
    const out = path.join(dir, 'killed');
    const child = spawn(process.execPath, [bin, ...args(out)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let buffered = '';
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        if (buffered.split('\n').some((l) => l.startsWith('{') && JSON.parse(l).type === 'run-end' && JSON.parse(l).index === 2)) {
          child.kill('SIGKILL');
        }
      });
      child.on('exit', () => resolve());
    });
    const killed = read(out);
    expect(killed.runs.length).toBeGreaterThanOrEqual(2);  // the kill lands after run 2's record at the earliest
    expect(killed.runs.length).toBeLessThan(4);
    expect(killed.finishedAt).toBeUndefined();
    expect(fs.existsSync(path.join(out, '.lock'))).toBe(true);  // left by the killed process: stale, taken over below
    const resumed = spawnSync(process.execPath, [bin, 'run', '--resume', out, '--cache-dir', cacheDir, '--json'], { encoding: 'utf8' });
    expect(resumed.stderr).toBe('');
    expect(resumed.status).toBe(0);
    const done = read(out);
    expect(done.runs).toHaveLength(4);
    expect(done.runs.slice(0, killed.runs.length)).toEqual(killed.runs);  // kept as recorded (same wall times: not run again)
    expect(done.runs.map((r) => [r.init, r.seed, r.auc, r.finalLoss])).toEqual(read(whole).runs.map((r) => [r.init, r.seed, r.auc, r.finalLoss]));
    expect(done.finishedAt).toBeDefined();
    expect(fs.existsSync(path.join(out, '.lock'))).toBe(false);
    // Flags that would change the study are refused, not ignored.
    const changed = spawnSync(process.execPath, [bin, 'run', '--resume', out, '--models', 'cbr-small'], { encoding: 'utf8' });
    expect(changed.status).toBe(2);
    expect(changed.stderr).toContain(`--resume continues the study recorded in ${out}/results.json; drop --models`);
  }, 120000);

  it('refuses a run directory another live process holds, and names it', async () => {
    const { lockRunDir } = await import('../../src/experiments/study');
    const out = path.join(dir, 'locked');
    fs.mkdirSync(out, { recursive: true });
    const release = lockRunDir(out);
    await expect(runStudy(spec(), { outDir: out, cacheDir })).rejects.toMatchObject({ code: 'ERR_LOCKED', message: expect.stringContaining(`is being written by process ${process.pid}`) });
    release();
    fs.writeFileSync(path.join(out, '.lock'), JSON.stringify({ pid: 2 ** 22 + 12345, host: (await import('node:os')).hostname() }));  // no such process
    const r = await runStudy({ ...spec(), inits: ['random'], seeds: [0] }, { outDir: out, cacheDir });
    expect(r.runs).toHaveLength(1);
    const file = path.join(dir, 'not-a-dir');
    fs.writeFileSync(file, 'x');
    await expect(runStudy(spec(), { outDir: path.join(file, 'sub'), cacheDir })).rejects.toThrow(`Cannot create the run directory ${path.join(file, 'sub')}`);
  });

  it('rebuilds report.md from results.json alone, and lists what there is', async () => {
    const { spawnSync } = await import('node:child_process');
    const out = path.join(dir, 'whole');
    const before = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
    fs.rmSync(path.join(out, 'report.md'));
    const r = spawnSync(process.execPath, [bin, 'report', out], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(fs.readFileSync(path.join(out, 'report.md'), 'utf8')).toBe(before);
    expect(r.stdout).toBe(before);
    const missing = spawnSync(process.execPath, [bin, 'report', path.join(dir, 'nothing')], { encoding: 'utf8' });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('holds no results.json to resume or report');
    const list = JSON.parse(spawnSync(process.execPath, [bin, 'list', '--json'], { encoding: 'utf8' }).stdout);
    expect(list.experiments.map((e: { name: string }) => e.name)).toContain('init-vs-final');
    expect(list.formats).toEqual(['eyepacs', 'chexpert', 'medmnist', 'folder', 'fashion-mnist']);
  });
});

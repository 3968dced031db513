// Issue 16, the run-directory half: a study is never written over unless asked, a name keeps its run directory inside
// runs/, an impossible --out fails at once, and sizes are refused by name: through runStudy and the built CLI.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { preset, runStudy, type StudySpec } from '../../src';
import { tempDir } from '../helpers/tmp';

const dir = tempDir('hardening-run');
const cacheDir = path.join(dir, 'cache');
const bin = path.resolve(__dirname, '../../bin/transfusion-native.js');
const cli = (args: string[], cwd = process.cwd()) =>
  spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', timeout: 60_000, env: { ...process.env, TRANSFUSION_THREADS: '2' } });
// One short run, no pretraining (random init only).
const small = (): StudySpec => ({ ...preset('tiny'), models: ['cbr-tiny'], inits: ['random'], seeds: [0], train: { ...preset('tiny').train, steps: 3, evalEvery: 0 } });
const finishedStudy = (out: string) => {
  fs.mkdirSync(out, { recursive: true });
  const results = JSON.stringify({ schema: 'transfusion-native/results@2', spec: { name: 'theirs', experiment: 'table1' }, startedAt: '2026-11-30T10:00:00.000Z', finishedAt: '2026-11-30T11:00:00.000Z', runs: [{}, {}, {}] });
  fs.writeFileSync(path.join(out, 'results.json'), results);
  return results;
};
const refusal = (out: string) =>
  `${out} already holds the finished study "theirs" (experiment "table1", started "2026-11-30T10:00:00.000Z", finished "2026-11-30T11:00:00.000Z", 3 run(s) recorded); choose another directory (--out / outDir), or replace it with --overwrite (runStudy: overwrite: true)`;

describe('runStudy never writes over a study unless asked', () => {
  it('refuses an outDir holding a finished study, naming it, and leaves it as it was', async () => {
    const out = path.join(dir, 'finished');
    const before = finishedStudy(out);
    await expect(runStudy(small(), { outDir: out, cacheDir })).rejects.toMatchObject({ code: 'ERR_RUN_EXISTS', message: refusal(out) });
    expect(fs.readFileSync(path.join(out, 'results.json'), 'utf8')).toBe(before);
    expect(fs.existsSync(path.join(out, '.lock'))).toBe(false);  // released
  });

  it('replaces it with overwrite: true, and refuses resume with overwrite', async () => {
    const out = path.join(dir, 'replaced');
    finishedStudy(out);
    await expect(runStudy(small(), { outDir: out, cacheDir, resume: true, overwrite: true })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARG',
      message: '`resume` continues the study in outDir and `overwrite` replaces it: give one of them',
    });
    const r = await runStudy(small(), { outDir: out, cacheDir, overwrite: true });
    expect(r.runs).toHaveLength(1);
    const saved = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));
    expect([saved.spec.name, saved.runs.length, typeof saved.finishedAt]).toEqual(['tiny', 1, 'string']);
    // The same spec again, with resume: the finished study is kept, nothing is trained again.
    const again = await runStudy(small(), { outDir: out, cacheDir, resume: true });
    expect(again.runs).toEqual(r.runs);
  });

  it('names steps and data sizes it cannot hold before any work', async () => {
    const out = path.join(dir, 'sizes');
    await expect(runStudy({ ...small(), train: { ...small().train, steps: 1e12 } }, { outDir: out, cacheDir })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARG',
      message: 'Expected `train.steps` to be an integer in [1, 10000000] but received 1000000000000',
    });
    await expect(runStudy({ ...small(), task: { ...small().task, trainSize: 10_000_000, imageSize: 1024 } }, { outDir: out, cacheDir })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARG',
      message: expect.stringMatching(/^`task\.trainSize` \(10000000\) asks for [\d.]+ GiB of images .*more than the [\d.]+ GiB of memory available to this process: lower `task\.trainSize`$/),
    });
    expect(fs.existsSync(out)).toBe(false);
  });
});

describe('the CLI', () => {
  it('refuses run --out into a finished study (exit 1, ERR_RUN_EXISTS), and replaces it with --overwrite', () => {
    const out = path.join(dir, 'cli-finished');
    const before = finishedStudy(out);
    const config = path.join(dir, 'small.json');
    fs.writeFileSync(config, JSON.stringify({ preset: 'tiny', models: ['cbr-tiny'], inits: ['random'], seeds: [0], train: { steps: 3, evalEvery: 0 } }));
    const r = cli(['run', '--config', config, '--out', out, '--cache-dir', cacheDir, '--quiet']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${refusal(out)} (ERR_RUN_EXISTS)`);
    expect(fs.readFileSync(path.join(out, 'results.json'), 'utf8')).toBe(before);
    const both = cli(['run', '--resume', out, '--overwrite']);
    expect(both.status).toBe(2);
    expect(both.stderr).toContain(`--resume continues the study recorded in ${out}/results.json; drop --overwrite`);
    const replaced = cli(['run', '--config', config, '--out', out, '--cache-dir', cacheDir, '--quiet', '--overwrite']);
    expect(replaced.stderr).toBe('');
    expect(replaced.status).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')).spec.name).toBe('small');
  });

  it("keeps a study file's name inside runs/: \"../../x\" is refused by name, nothing is created", () => {
    const cwd = path.join(dir, 'work', 'here');
    fs.mkdirSync(cwd, { recursive: true });
    const config = path.join(cwd, 'escape.json');
    fs.writeFileSync(config, JSON.stringify({ preset: 'tiny', name: '../../escaped' }));
    const r = cli(['run', '--config', config, '--cache-dir', cacheDir], cwd);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      'Expected the study\'s `name` to be a name without path separators (it names the run directory under runs/) but received "../../escaped"; rename the study, or choose its directory with --out (ERR_INVALID_ARG)',
    );
    expect(fs.readdirSync(path.join(dir, 'work')).sort()).toEqual(['here']);
    expect(fs.readdirSync(cwd)).toEqual(['escape.json']);
  });

  it('fails at once with ERR_IO for an --out that cannot be made (/proc/x looped in mkdir)', () => {
    const r = cli(['run', '--preset', 'tiny', '--out', '/proc/x', '--cache-dir', cacheDir]);
    expect(r.error).toBeUndefined();  // not killed by the timeout
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('Cannot create the run directory /proc/x: its parent does not accept new entries (ENOENT) (ERR_IO)');
  });

  it('names --steps 1e12 against the limits', () => {
    const r = cli(['run', '--preset', 'tiny', '--steps', '1e12', '--out', path.join(dir, 'never')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('Expected `--steps` to be an integer in [1, 10000000] but received 1000000000000 (ERR_INVALID_ARG)');
    expect(fs.existsSync(path.join(dir, 'never'))).toBe(false);
  });
});

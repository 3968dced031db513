// `reproduce` end to end at the tiny preset (one model, two seeds): every study of the plan, Section 4's analyses over
// the retina study's snapshots, one report with every section of the paper and every scorecard row; then resume,
// refusal to overwrite, and the flags --resume refuses.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { reproducePlan } from '../../src/experiments/reproduce-plan';
import { tempDir } from '../helpers/tmp';

const bin = path.resolve(__dirname, '../../bin/transfusion-native.js');
const cli = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, TRANSFUSION_THREADS: '2' } });

describe('reproduce', () => {
  const dir = tempDir('reproduce');
  const out = path.join(dir, 'paper');
  const cache = path.join(dir, 'cache');

  it('plans each model once per initialisation and seed: Section 5\'s studies hold only the initialisations beyond random and transfer', () => {
    const plan = reproducePlan({ preset: 'laptop' });
    expect(plan.map((p) => p.name)).toEqual(['retina', 'section5', 'chexpert', 'small-data', 'checkpoints']);
    const [retina, s5, chest, small, checkpoints] = plan.map((p) => p.spec);
    expect(retina.models).toEqual(['resnet50', 'inception_v3', 'cbr-larget', 'cbr-largew', 'cbr-small', 'cbr-tiny']);
    expect(retina.inits).toEqual(['random', 'transfer']);
    expect(s5.arms!.some((a) => a.init === 'random' || a.init === 'transfer')).toBe(false);
    expect(s5.arms).toEqual(expect.arrayContaining([{ model: 'resnet50', init: 'meanvar' }, { model: 'resnet50', init: 'slim' }, { model: 'cbr-largew', init: 'gabor' }, { model: 'cbr-small', init: 'transfusion:layer2' }]));
    // Figures 6-8 compare against the retina study's runs: same task, schedule, validation and threshold.
    for (const key of ['task', 'train', 'threshold', 'seeds', 'imageSizes', 'pretrain'] as const) expect(s5[key]).toEqual(retina[key]);
    expect(chest.task.source).toBe('chest');
    expect(small.models).toEqual(['resnet50', 'cbr-larget', 'cbr-largew']);
    expect(small.task.trainSize).toBe(retina.task.trainSize / 10);
    // Beyond the paper: transfer from pretraining checkpoints, for ResNet-50 and CBR-Small, against retina's arms.
    expect(checkpoints.models).toEqual(['resnet50', 'cbr-small']);
    expect(checkpoints.inits.every((i) => /^checkpoint:\d+$/.test(i))).toBe(true);
    for (const key of ['task', 'train', 'threshold', 'seeds', 'pretrain'] as const) expect(checkpoints[key]).toEqual(retina[key]);
    expect(reproducePlan({ preset: 'laptop', models: ['cbr-tiny'] }).map((p) => p.name)).not.toContain('checkpoints');
    // On the user's data, the chest study is not run and the others read the data.
    const mine = reproducePlan({ preset: 'laptop', data: { path: '/data/x' } });
    expect(mine.map((p) => p.name)).toEqual(['retina', 'section5', 'small-data', 'checkpoints']);
    for (const p of mine) expect(p.spec.task).toMatchObject({ source: 'files', data: { path: '/data/x' } });
  });

  it('refuses a bad request by name before it makes any directory', () => {
    const where = path.join(dir, 'never');
    const cases: [string[], string][] = [
      [['--models', 'bogus'], 'Expected `models` to be model names from: '],
      [['--data', path.join(dir, 'nothing-here')], 'Expected `task.data.path` to be an existing file or folder'],
      [['--seeds', '0'], 'Expected `--seeds` to be an integer in [1, 100] but received 0'],
      [['--preset', 'huge'], 'Expected `--preset` to be one of "quick", "laptop", "tiny", "paper" but received "huge"'],
      [['--resume', path.join(dir, 'nothing-here')], 'holds no reproduction (no results.json)'],
    ];
    for (const [args, message] of cases) {
      const r = cli('reproduce', ...args, ...(args[0] === '--resume' ? [] : ['--out', where]));
      expect([args, r.status, r.stderr]).toEqual([args, 2, expect.stringContaining(message)]);
    }
    expect(fs.existsSync(where)).toBe(false);
  });

  it('estimates each study\'s time from a probe on this machine, and stops there with --estimate', () => {
    const where = path.join(dir, 'estimated');
    const r = cli('reproduce', '--preset', 'tiny', '--models', 'cbr-small', '--estimate', '--out', where);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/estimate from a probe on cpu \(2 thread\(s\), batch 16\): cbr-small 32 px [\d.]+ images\/s/);
    for (const part of ['retina', 'section5', 'chexpert', 'small-data', 'checkpoints']) expect(r.stderr).toMatch(new RegExp(`  ${part} \\(.*\\): \\d+ runs, \\d+ min`));
    expect(r.stderr).toMatch(/retina .* \+ pretraining \d+ min/);
    expect(r.stderr).toMatch(/total: about \d+ min of training/);
    expect(fs.existsSync(where)).toBe(false);
  });

  it('runs the tiny preset end to end: every table, figure and scorecard row in one report', () => {
    const r = cli('reproduce', '--preset', 'tiny', '--models', 'cbr-small', '--out', out, '--cache-dir', cache);
    expect(r.stderr).not.toMatch(/Error|error:/);
    expect(r.status).toBe(0);
    const record = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));
    expect(record.schema).toBe('transfusion-native/reproduce@1');
    expect(record.finishedAt).toEqual(expect.any(String));
    expect(record.parts.map((p: { name: string; finished: boolean }) => [p.name, p.finished])).toEqual([['retina', true], ['section5', true], ['chexpert', true], ['small-data', true], ['checkpoints', true]]);
    expect(Object.keys(record.analyses)).toEqual(['similarity', 'layers', 'init-vs-final', 'filters', 'interpolation', 'criticality', 'knn']);
    // Each model is trained once per init and seed: 2 inits x 2 seeds in retina; Section 5 adds its four other inits.
    const runs = (part: string) => JSON.parse(fs.readFileSync(path.join(out, part, 'results.json'), 'utf8')).runs as { init: string }[];
    expect(runs('retina')).toHaveLength(4);
    expect(runs('section5').map((x) => x.init).sort()).toEqual(['meanvar', 'meanvar', 'shuffle', 'shuffle', 'transfusion:layer1', 'transfusion:layer1', 'transfusion:layer2', 'transfusion:layer2', 'transfusion:layer3', 'transfusion:layer3']);
    expect(record.scorecard.map((f: { where: string }) => f.where)).toEqual(['Table 1', 'Table 1', 'Table 1', 'Table 2', 'Table 3', 'Figure 2', 'Figure 3', 'Figure 3', 'Figure 4', 'Figure 6', 'Figure 7', 'Figure 8']);
    for (const f of record.scorecard) expect(['holds', 'not shown', 'contradicted']).toContain(f.verdict);
    const report = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
    const headings = report.split('\n').filter((l) => l.startsWith('## ')).map((l) => l.slice(3).split(':')[0]);
    expect(headings).toEqual(['Findings scorecard', 'Figure 1', 'Table 1', 'Table 2', 'Table 3', 'Figure 2', 'Figure 3', 'Figure 4', 'Figure 5', 'Figure 6', 'Figure 7', 'Figure 8', 'Beyond the paper', 'Beyond the paper', 'Beyond the paper', 'Beyond the paper', 'Settings']);
    // Issue 30's analyses of the same runs, after the paper's sections: the barrier, the reset stages, the k-NN AUC.
    expect(report).toMatch(/\| cbr-small \| transfer-random \| \d\.\d{3} ± \d\.\d{3} \(n=\d\) \|/);
    expect(report).toMatch(/\| cbr-small \| layer1 \| \d\.\d{3} ± \d\.\d{3} \(n=2\) \| \d\.\d{3}/);
    // Transfer from each pretraining checkpoint, beside the retina study's random and transfer runs.
    const checkpointRuns = runs('checkpoints').map((x) => x.init);
    expect(checkpointRuns.length).toBeGreaterThanOrEqual(4);
    expect(checkpointRuns.every((i) => /^checkpoint:\d+$/.test(i))).toBe(true);
    expect(report).toMatch(/## Beyond the paper: transfer from pretraining checkpoints[^]*\| cbr-small \| checkpoint:0 \|/);
    expect(fs.existsSync(path.join(out, 'figures', 'beyond-checkpoints.svg'))).toBe(true);
    expect(report).toMatch(/\| 12 \| Figure 8 \| .* \| \*\*(holds|not shown|contradicted)\*\* \|/);
    for (const f of ['figure-1-examples.png', 'table-1.svg', 'table-2.svg', 'table-3.svg', 'figure-2.svg', 'figure-3.svg', 'figure-6.svg', 'figure-7.svg', 'filters-cbr-small.png'])
      expect(fs.existsSync(path.join(out, 'figures', f))).toBe(true);
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).toContain('<figure id="figure-1">');
    expect(html).toContain('<figure id="figure-7">');
    expect(html).not.toContain('Figure file not found');
  });

  it('resumes a finished reproduction without training again, and refuses to start over it or to change it', () => {
    const before = fs.statSync(path.join(out, 'retina', 'results.json')).mtimeMs;
    const again = cli('reproduce', '--resume', out, '--quiet');
    expect(again.status).toBe(0);
    expect(fs.statSync(path.join(out, 'retina', 'results.json')).mtimeMs).toBe(before);
    const over = cli('reproduce', '--preset', 'tiny', '--out', out, '--quiet');
    expect(over.status).toBe(1);
    expect(over.stderr).toContain('already holds a reproduction');
    expect(over.stderr).toContain(`reproduce --resume ${out}`);
    // `report DIR` redraws a reproduction's one report from its records.
    fs.rmSync(path.join(out, 'report.html'));
    const report = cli('report', out);
    expect(report.status).toBe(0);
    expect(report.stdout).toContain('## Findings scorecard');
    expect(fs.existsSync(path.join(out, 'report.html'))).toBe(true);
    const changed = cli('reproduce', '--resume', out, '--preset', 'laptop');
    expect(changed.status).toBe(2);
    expect(changed.stderr).toContain('drop --preset');
  });

  it('reports an unfinished reproduction: what has run is scored, a study not finished is not', () => {
    const copy = path.join(dir, 'unfinished');
    fs.cpSync(out, copy, { recursive: true });
    const record = JSON.parse(fs.readFileSync(path.join(copy, 'results.json'), 'utf8'));
    delete record.finishedAt;
    record.parts.find((p: { name: string }) => p.name === 'retina').finished = false;
    fs.writeFileSync(path.join(copy, 'results.json'), JSON.stringify(record));
    const r = cli('report', copy);
    expect(r.stderr).toMatch(/^wrote \d+ files: /);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('_In progress: 4 of 5 studies finished (`section5/`, `chexpert/`, `small-data/`, `checkpoints/`)');
    expect(r.stdout).toMatch(/\| 1 \| Table 1 \| .* \| no model learned both arms \| \*\*not shown\*\* \|/);
  });

  it('shards every study of the plan over a job array, and merges the shards into the whole reproduction', () => {
    const shards = [0, 1].map((i) => path.join(dir, `shard${i}`));
    shards.forEach((where, i) => expect(cli('reproduce', '--preset', 'tiny', '--models', 'cbr-tiny', '--shard', `${i}/2`, '--out', where, '--cache-dir', cache, '--quiet').status).toBe(0));
    const part = JSON.parse(fs.readFileSync(path.join(shards[0], 'retina', 'results.json'), 'utf8'));
    expect(part.shard).toEqual({ index: 0, count: 2 });
    expect(part.runs).toHaveLength(2);  // every other run of the retina study's four
    const merged = path.join(dir, 'merged');
    const missing = cli('reproduce', '--merge', shards[0], '--out', path.join(dir, 'half'), '--quiet');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain(`The retina study (Table 1, Figures 2-8) of ${shards[0]}: Shard(s) 1/2 of the study are missing`);
    const r = cli('reproduce', '--merge', ...shards, '--out', merged, '--cache-dir', cache, '--quiet');
    expect(r.status).toBe(0);
    const record = JSON.parse(fs.readFileSync(path.join(merged, 'results.json'), 'utf8'));
    expect(record.finishedAt).toEqual(expect.any(String));
    expect(record.parts.map((p: { runs: number }) => p.runs)).toEqual([4, 4, 4]);  // retina, chexpert, small-data
    expect(Object.keys(record.analyses)).toEqual(['similarity', 'layers', 'init-vs-final', 'filters', 'interpolation', 'criticality', 'knn']);
    expect(fs.readFileSync(path.join(merged, 'report.md'), 'utf8')).toContain('## Findings scorecard');
    // Each merged study has its own report, which the reproduction's report links (the merge alone wrote none).
    for (const name of ['retina', 'chexpert', 'small-data'])
      for (const file of ['report.md', 'runs.csv', 'curves.csv']) expect([name, file, fs.existsSync(path.join(merged, name, file))]).toEqual([name, file, true]);
  });

  it('runs data-parallel under launch: each study over two ranks, rank 0 alone writing the report', () => {
    const where = path.join(dir, 'ranks');
    const r = spawnSync(process.execPath, [bin, 'launch', '--nproc', '2', '--', 'reproduce', '--preset', 'tiny', '--models', 'cbr-tiny', '--out', where, '--cache-dir', cache, '--quiet'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const retina = JSON.parse(fs.readFileSync(path.join(where, 'retina', 'results.json'), 'utf8'));
    expect(retina.distributed).toEqual({ worldSize: 2, backend: 'gloo', syncBatchNorm: false });
    expect(retina.runs).toHaveLength(4);
    expect(JSON.parse(fs.readFileSync(path.join(where, 'results.json'), 'utf8')).finishedAt).toEqual(expect.any(String));
    expect(fs.readFileSync(path.join(where, 'report.md'), 'utf8')).toContain('## Findings scorecard');
  });
});

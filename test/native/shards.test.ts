import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { preset, runStudy, type StudyResults, studyReport } from '../../src';
import { mergeShards } from '../../src/experiments/merge';
import { tempDir } from '../helpers/tmp';

const dir = tempDir('shards');
const cacheDir = path.join(dir, 'cache');
const spec = () => ({ ...preset('tiny'), models: ['cbr-tiny'], seeds: [0, 1, 2] });  // 2 inits x 3 seeds: 6 runs
const science = (r: StudyResults) => r.runs.map((x) => [x.model, x.init, x.seed, x.auc, x.finalLoss, x.curve]);
const bin = path.resolve(__dirname, '../../bin/transfusion-native.js');

describe('sharded studies', () => {
  let whole: StudyResults;
  const shardDir = (i: number, n = 2) => path.join(dir, `shard-${i}-of-${n}`);

  beforeAll(async () => {
    whole = await runStudy(spec(), { report: studyReport, outDir: path.join(dir, 'whole'), cacheDir });
    for (const index of [0, 1]) await runStudy(spec(), { report: studyReport, outDir: shardDir(index), cacheDir, shard: { index, count: 2 } });
  }, 120000);

  it('gives each shard every count-th run, and records which shard it is', () => {
    const read = (i: number): StudyResults => JSON.parse(fs.readFileSync(path.join(shardDir(i), 'results.json'), 'utf8'));
    expect(read(0).shard).toEqual({ index: 0, count: 2 });
    expect(read(0).runs.map((r) => `${r.init} ${r.seed}`)).toEqual(['random 0', 'random 2', 'transfer 1']);
    expect(read(1).runs.map((r) => `${r.init} ${r.seed}`)).toEqual(['random 1', 'transfer 0', 'transfer 2']);
  });

  it('merges the shards into the unsharded study', () => {
    const merged = mergeShards([shardDir(1), shardDir(0)], path.join(dir, 'merged'));
    expect(science(merged)).toEqual(science(whole));
    expect(merged.shard).toBeUndefined();
    expect(merged.spec).toEqual(whole.spec);
    expect(merged.pretraining.map((p) => p.model)).toEqual(['cbr-tiny']);
    expect(merged.mergedFrom).toEqual([shardDir(1), shardDir(0)]);
    // And from the command line, with the report: Table 1 is the unsharded study's.
    const r = spawnSync(process.execPath, [bin, 'report', shardDir(0), shardDir(1), '--out', path.join(dir, 'merged-cli')], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    // (The shards found the whole study's pretrained weights in the shared cache, and say so.)
    const table1 = (md: string) => md.slice(md.indexOf('## Table 1'), md.indexOf('AUC: mean')).replace(' (cached)', '');
    expect(table1(r.stdout)).toBe(table1(fs.readFileSync(path.join(dir, 'whole', 'report.md'), 'utf8')));
    expect(fs.existsSync(path.join(dir, 'merged-cli', 'report.html'))).toBe(true);
  });

  it('refuses missing, repeated, unfinished and foreign shards, naming them', async () => {
    expect(() => mergeShards([shardDir(0)], path.join(dir, 'm1'))).toThrow('Shard(s) 1/2 of the study are missing');
    expect(() => mergeShards([shardDir(0), shardDir(0)], path.join(dir, 'm2'))).toThrow(`${shardDir(0)} and ${shardDir(0)} are both shard 0/2`);
    const unfinished = path.join(dir, 'unfinished');
    fs.cpSync(shardDir(1), unfinished, { recursive: true });
    const results = JSON.parse(fs.readFileSync(path.join(unfinished, 'results.json'), 'utf8'));
    delete results.finishedAt;
    fs.writeFileSync(path.join(unfinished, 'results.json'), JSON.stringify(results));
    expect(() => mergeShards([shardDir(0), unfinished], path.join(dir, 'm3'))).toThrow(`${unfinished} (shard 1/2) has not finished: resume it with run --resume ${unfinished}`);
    const foreign = path.join(dir, 'foreign');
    await runStudy({ ...spec(), seeds: [5, 6, 7] }, { report: studyReport, outDir: foreign, cacheDir, shard: { index: 1, count: 2 } });
    expect(() => mergeShards([shardDir(0), foreign], path.join(dir, 'm4'))).toThrow(`${foreign} is a shard of another study than ${shardDir(0)} (their specs differ)`);
    expect(() => mergeShards([path.join(dir, 'whole')], path.join(dir, 'm5'))).toThrow('holds a whole study, not a shard');
    const bad = spawnSync(process.execPath, [bin, 'run', '--preset', 'tiny', '--shard', '2/2'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('Expected `--shard` as INDEX/COUNT with 0 <= INDEX < COUNT (e.g. 0/4) but received "2/2"');
  }, 60000);
});

// Issue 28's third adversarial pass, on what issue 27 added (`reproduce`, a reproduction's record, `report DIR` on one):
// each case found is refused by name, with nothing of the user's replaced and nothing trained.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { REPRODUCE_SCHEMA, mergeReproductions, recordKind, readReproduction, reproduce } from '../../src/experiments/reproduce';
import { describeEstimate, estimatePlan } from '../../src/experiments/estimate';
import { scoreFindings } from '../../src/experiments/scorecard';
import { renderPaperReport } from '../../src/report/paper';
import { pickMetrics, similarity } from '../../src/similarity/similarity';
import { FIXTURES } from '../helpers/results';
import { reproducePlan } from '../../src/experiments/reproduce-plan';
import { preset } from '../../src/experiments/presets';
import { validateSpec } from '../../src/experiments/spec';
import { tempDir } from '../helpers/tmp';

const bin = path.resolve(__dirname, '../../bin/transfusion-native.js');
const cli = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60000, env: { ...process.env, TRANSFUSION_THREADS: '2' } });
const dir = tempDir('reproduce-hardening');
const at = (...p: string[]) => path.join(dir, ...p);

/** A reproduction record with the fields the library writes (no part run). */
const record = () => ({
  schema: REPRODUCE_SCHEMA,
  request: { preset: 'tiny', models: ['cbr-tiny'] },
  startedAt: '2026-12-06T00:00:00.000Z',
  environment: {},
  parts: [{ name: 'retina', serves: 'Table 1, Figures 2-8', finished: false, runs: 0 }],
  analyses: {},
  scorecard: [],
});
const write = (d: string, doc: unknown) => {
  fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(d, 'results.json'), typeof doc === 'string' ? doc : JSON.stringify(doc));
};

describe('reproduce, adversarially', () => {
  it('reads a results.json that is a device or a FIFO as a bad file, without a crash or a hang', () => {
    fs.mkdirSync(at('zero'), { recursive: true });
    fs.symlinkSync('/dev/zero', at('zero', 'results.json'));
    fs.mkdirSync(at('fifo'), { recursive: true });
    spawnSync('mkfifo', [at('fifo', 'results.json')]);
    for (const d of ['zero', 'fifo']) {
      const r = cli('report', at(d));
      expect([d, r.signal, r.status]).toEqual([d, null, 1]);
      expect(r.stderr).toContain(`${at(d, 'results.json')} cannot be read`);
      expect(r.stderr).toContain('(ERR_BAD_DATA)');
    }
  });

  it('never replaces a study or a file of the user\'s: not with a new reproduction, not with --overwrite', () => {
    write(at('mine', 'retina'), { mine: 1 });
    const r = cli('reproduce', '--preset', 'tiny', '--models', 'cbr-tiny', '--out', at('mine'), '--quiet');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${at('mine', 'retina')} holds a study that is not this reproduction's`);
    expect(fs.readFileSync(at('mine', 'retina', 'results.json'), 'utf8')).toBe('{"mine":1}');
    expect(fs.existsSync(at('mine', 'results.json'))).toBe(false);
    write(at('own'), { mine: 2 });
    for (const extra of [[], ['--overwrite']]) {
      const o = cli('reproduce', '--preset', 'tiny', '--models', 'cbr-tiny', '--out', at('own'), '--quiet', ...extra);
      expect(o.status).toBe(1);
      expect(o.stderr).toContain('holds a results.json that is not a reproduction\'s');
    }
    expect(fs.readFileSync(at('own', 'results.json'), 'utf8')).toBe('{"mine":2}');
  });

  it('refuses repeated models, seeds and flags, which would count the same runs twice', () => {
    const twice = cli('reproduce', '--preset', 'tiny', '--models', 'cbr-tiny,cbr-tiny', '--out', at('never'));
    expect(twice.stderr).toContain('Expected `models` to be distinct entries (a repeated one would count the same runs twice) but received "cbr-tiny,cbr-tiny"');
    expect(() => reproducePlan({ preset: 'tiny', seeds: [0, 0] })).toThrow('Expected `seeds` to be distinct entries');
    expect(() => validateSpec({ ...preset('tiny'), seeds: [1, 1] })).toThrow('Expected `seeds` to be distinct entries');
    for (const flag of [['--seeds', '1', '--seeds', '1'], ['--threads', '1', '--threads', '1'], ['--out', 'a', '--out', 'b']]) {
      const r = cli('reproduce', '--preset', 'tiny', ...flag);
      expect([flag, r.status, r.stderr]).toEqual([flag, 2, expect.stringContaining(`\`${flag[0]}\` is given more than once: give it once`)]);
    }
    expect(fs.existsSync(at('never'))).toBe(false);
    // Presets are the table's own: "__proto__" and "toString" are unknown names, not objects.
    for (const name of ['__proto__', 'toString', 'constructor']) expect(() => reproducePlan({ preset: name })).toThrow(`Unknown preset "${name}"`);
  });

  it('refuses a flag it would ignore, and estimates only over data a run would accept', () => {
    write(at('done'), record());
    const cases: [string[], string][] = [
      [['reproduce', '--resume', at('done'), '--out', at('elsewhere')], `--resume continues the reproduction in ${at('done')}: drop --out`],
      [['reproduce', '--resume', at('done'), '--overwrite'], 'drop --overwrite'],
      [['reproduce', '--format', 'folder', '--out', at('never')], '--format names the format of --data: give --data too'],
      [['reproduce', '--merge', at('done'), '--out', at('merged'), '--preset', 'tiny'], '--merge takes the shards\' own request: drop --preset'],
      [['reproduce', '--merge', at('done'), '--out', at('merged'), '--estimate'], 'drop --estimate'],
      [['report', at('done'), '--out', at('elsewhere')], 'A reproduction\'s report is written in its own directory: drop --out'],
      [['reproduce', '--estimate', '--data', '/dev/null'], '--data /dev/null: neither a folder nor a regular file'],
    ];
    fs.mkdirSync(at('empty'));
    for (const [args, message] of cases) {
      const r = cli(...args);
      expect([args, r.status, r.stderr]).toEqual([args, 2, expect.stringContaining(message)]);
    }
    const empty = cli('reproduce', '--estimate', '--data', at('empty'));
    expect([empty.status, empty.stderr]).toEqual([1, expect.stringContaining(`${at('empty')}: expected one sub-folder per class (at least 2), found 0 (ERR_BAD_DATA)`)]);
    for (const d of ['elsewhere', 'merged', 'never']) expect(fs.existsSync(at(d))).toBe(false);
    // Data that exist but cannot be read leave nothing behind, so the corrected command is not refused as a rerun.
    const bad = cli('reproduce', '--preset', 'tiny', '--data', at('empty'), '--out', at('never'));
    expect([bad.status, bad.stderr]).toEqual([1, expect.stringContaining('expected one sub-folder per class')]);
    expect(fs.existsSync(at('never'))).toBe(false);
    // A value that starts with "-" is named for its flag; a control character in a path is refused, not echoed.
    expect(cli('reproduce', '--shard', '-1/2', '--out', at('never')).stderr).toContain('Expected `--shard` to be given a value but received "-1/2", which reads as a flag: write --shard=-1/2');
    expect(cli('reproduce', '--shard=-1/2', '--out', at('never')).stderr).toContain('--shard');
    expect(cli('reproduce', '--preset', 'tiny', '--out', at('a\u0001b')).stderr).toContain('Expected `--out` to hold no control character but received');
    expect(fs.existsSync(at('a\u0001b'))).toBe(false);
  });

  it('names a wrong type given to the library\'s reproduction functions, before anything is made', async () => {
    const outDir = at('lib');
    const refusals: [() => unknown, string, string][] = [
      [() => reproduce({ preset: 'tiny', models: 'cbr-tiny' as unknown as string[] }, { outDir }), 'ERR_INVALID_ARG', 'Expected `models` to be a list of model names but received "cbr-tiny"'],
      [() => reproduce({ preset: 'tiny' }, { outDir, signal: {} as AbortSignal }), 'ERR_INVALID_ARG', 'Expected `signal` to be an AbortSignal'],
      [() => reproduce({ preset: 'tiny' }, { outDir, onProgress: 5 as unknown as () => void }), 'ERR_INVALID_ARG', 'Expected `onProgress` to be a function'],
      [() => reproduce({ preset: 'tiny' }, { outDir, shard: { index: 3, count: 2 } }), 'ERR_INVALID_ARG', 'Expected `shard.index` to be an integer in [0, 1]'],
      [() => reproduce({ preset: 'tiny' }, { outDir, concurrency: 1e9 }), 'ERR_INVALID_ARG', 'Expected `concurrency` to be an integer in [1, 64]'],
      [() => reproduce({ preset: '__proto__' }, { outDir }), 'ERR_INVALID_ARG', 'Unknown preset "__proto__"'],
      [() => scoreFindings(undefined as never, undefined as never), 'ERR_INVALID_ARG', 'Expected `parts` of scoreFindings() to be a Map'],
      [() => scoreFindings(new Map([['retina', { runs: null }]]) as never, {}), 'ERR_BAD_DATA', 'scoreFindings(): the retina study\'s results are not a study\'s results: field spec is missing; field runs must be array'],
      [() => readReproduction(123 as unknown as string), 'ERR_INVALID_ARG', 'Expected `outDir` to be a directory path but received 123'],
      [() => mergeReproductions('abc' as unknown as string[], outDir), 'ERR_INVALID_ARG', 'Expected `dirs` to be a list of shard directories'],
      [() => mergeReproductions([at('done')], undefined as unknown as string), 'ERR_INVALID_ARG', 'Expected `outDir` to be a directory path'],
      [() => estimatePlan(undefined as never), 'ERR_INVALID_ARG', 'Expected `plan` to be the studies of reproducePlan()'],
      [() => describeEstimate({} as never), 'ERR_INVALID_ARG', 'Expected `estimate` to be what estimatePlan() returns'],
      [() => renderPaperReport({} as never, new Map()), 'ERR_BAD_DATA', 'renderPaperReport(): record is not a reproduction record this library wrote'],
    ];
    for (const [call, code, message] of refusals) {
      let caught: unknown;
      try {
        await call();
      } catch (err) {
        caught = err;
      }
      expect([message, caught]).toEqual([message, expect.objectContaining({ code, message: expect.stringContaining(message) })]);
    }
    expect(fs.existsSync(outDir)).toBe(false);
  });

  it('checks a reproduction\'s record against its schema: a part named as a path, a bad type, a bad shard are named', () => {
    const cases: [(r: ReturnType<typeof record>) => unknown, string][] = [
      [(r) => ({ ...r, parts: [{ ...r.parts[0], name: '../stolen' }] }), 'field parts[0].name must be equal to one of the allowed values'],
      [(r) => ({ ...r, parts: 'all' }), 'field parts must be array'],
      [(r) => ({ ...r, parts: [r.parts[0], { ...r.parts[0], runs: 3 }] }), 'field parts names an entry twice'],
      [(r) => ({ ...r, parts: [{ ...r.parts[0], finished: 'no' }] }), 'field parts[0].finished must be boolean'],
      [(r) => ({ ...r, request: { ...r.request, seeds: [0, 0] } }), 'field request.seeds names an entry twice'],
      [(r) => ({ ...r, shard: { index: 5, count: 2 } }), 'field shard.index must be below shard.count'],
      [(r) => ({ ...r, scorecard: [{ id: 'x' }] }), 'field scorecard[0].where is missing'],
    ];
    for (const [edit, message] of cases) {
      write(at('edited'), edit(record()));
      expect(() => readReproduction(at('edited'))).toThrow(message);
      const r = cli('report', at('edited'));
      expect([message, r.status]).toEqual([message, 1]);
      expect(r.stderr).toContain('is not a reproduction record this library wrote');
    }
    expect(fs.existsSync(path.join(dir, 'stolen'))).toBe(false);
    // The record's keys in any order (jq -S) are the same record.
    const sorted = JSON.stringify(Object.fromEntries(Object.entries(record()).sort(([a], [b]) => a.localeCompare(b))));
    write(at('sorted'), sorted);
    expect(recordKind(at('sorted'))).toBe('reproduction');
    expect(readReproduction(at('sorted')).parts[0].name).toBe('retina');
    // A shard's report says it is one, and a reproduction on the user's data does not call Table 1 the RETINA-like task.
    write(at('shard'), { ...record(), request: { ...record().request, data: { path: at('empty') } }, shard: { index: 0, count: 2 } });
    const shard = cli('report', at('shard'));
    expect(shard.status).toBe(0);
    expect(shard.stdout).toContain('_Shard 0/2 of the reproduction: every study\'s every 2th run from run 1');
    expect(shard.stdout).not.toContain('In progress');
    expect(shard.stdout).toContain('## Table 1: random initialisation against transfer (your data)');
  });

  it('(re-check) refuses a record of 300,000 parts at once, and a study in the wrong part folder, a user\'s or a repeated run', async () => {
    const huge = { ...record(), parts: Array.from({ length: 300_000 }, () => record().parts[0]) };
    write(at('huge'), huge);
    const t0 = Date.now();
    expect(() => readReproduction(at('huge'))).toThrow('field parts must NOT have more than 5 items');
    expect(Date.now() - t0).toBeLessThan(20_000);
    // An escape sequence in the request would reach the report raw.
    write(at('esc'), { ...record(), request: { preset: 'tiny', data: { path: '/data/\u001b[31mred' } } });
    expect(() => readReproduction(at('esc'))).toThrow('field request.data.path must be text with no control character');

    // A study in a part's folder must be that part's, on the request's data.
    const study = (name: string) => ({ ...FIXTURES.table1(), spec: { ...FIXTURES.table1().spec, name } });
    write(at('swap'), { ...record(), finishedAt: '2026-12-06T01:00:00.000Z', parts: [{ ...record().parts[0], finished: false }] });
    write(at('swap', 'retina'), study('reproduce-tiny-chexpert'));
    const swapped = cli('report', at('swap'));
    expect([swapped.status, swapped.stderr]).toEqual([1, expect.stringContaining(`${at('swap', 'retina')} is not this reproduction's retina study: its study is "reproduce-tiny-chexpert", not "reproduce-tiny-retina"`)]);
    // Its own study's name, but other models or seeds than the request's plan gives it: not this reproduction's either.
    write(at('swap', 'retina'), { ...study('reproduce-tiny-retina'), spec: { ...study('reproduce-tiny-retina').spec, models: ['cbr-tiny'], seeds: [5, 6] } });
    expect(cli('report', at('swap')).stderr).toContain('its study\'s seeds are 5, 6, the request\'s plan gives 0');
    const planned = reproducePlan(record().request).find((p) => p.name === 'retina')!.spec;
    const mine = () => ({ ...study('reproduce-tiny-retina'), spec: { ...study('reproduce-tiny-retina').spec, models: planned.models, seeds: planned.seeds } });
    write(at('swap', 'retina'), { ...mine(), spec: { ...mine().spec, models: ['cbr-small'] } });
    expect(cli('report', at('swap')).stderr).toContain('its study\'s models are cbr-small, the request\'s plan gives cbr-tiny');
    // The library's report checks the same: another part's study given as retina's is refused.
    const fixture = mine();
    expect(() => renderPaperReport(record() as never, new Map([['retina', { ...fixture, spec: { ...fixture.spec, name: 'reproduce-tiny-chexpert' } }]]) as never)).toThrow('renderPaperReport(): parts.get("retina") is not this reproduction\'s retina study');
    // Its own study, but the record says finished while its part is not: the report says it is in progress; the
    // runs counted are the study's (not the record's 999), and a finish before the start gives no wall time.
    write(at('swap'), { ...record(), startedAt: '2026-12-06T02:00:00.000Z', finishedAt: '2026-12-06T01:00:00.000Z', parts: [{ ...record().parts[0], finished: false, runs: 999 }] });
    write(at('swap', 'retina'), mine());
    const own = cli('report', at('swap'));
    expect(own.status).toBe(0);
    expect(own.stdout).toContain('_In progress: 0 of 1 studies finished');
    expect(own.stdout).toContain(`\`retina/\` (Table 1, Figures 2-8): ${mine().runs.length} runs`);
    expect(own.stdout).not.toMatch(/999 runs|-\d[\d.]* min wall/);
    // A control character in a study's own text (its why) is escaped in report.md and report.html, not copied.
    write(at('swap', 'retina'), { ...mine(), spec: { ...mine().spec, why: 'ring \u0007 the bell' } });
    expect(cli('report', at('swap')).status).toBe(0);
    for (const file of ['report.md', 'report.html']) {
      const text = fs.readFileSync(at('swap', file), 'utf8');
      expect([file, text.includes('\u0007'), text.includes('ring \\x07 the bell')]).toEqual([file, false, true]);
    }
    write(at('swap', 'retina'), mine());
    // A part folder that is a link (into another reproduction) is refused, never written through.
    write(at('victim', 'retina'), mine());
    const before = fs.readFileSync(at('victim', 'retina', 'results.json'), 'utf8');
    fs.rmSync(at('swap', 'retina'), { recursive: true });
    fs.symlinkSync(at('victim', 'retina'), at('swap', 'retina'));
    for (const args of [['report', at('swap')], ['reproduce', '--preset', 'tiny', '--models', 'cbr-tiny', '--out', at('swap'), '--overwrite', '--quiet']]) {
      const r = cli(...args);
      expect([args, r.status, r.stderr]).toEqual([args, 1, expect.stringContaining(`${at('swap', 'retina')} is a link: a reproduction's studies live in its own folders`)]);
    }
    expect(fs.readFileSync(at('victim', 'retina', 'results.json'), 'utf8')).toBe(before);
    fs.rmSync(at('swap', 'retina'));
    // --overwrite replaces the reproduction's own studies, never a user's in their place.
    write(at('swap', 'retina'), { mine: 3 });
    const over = cli('reproduce', '--preset', 'tiny', '--models', 'cbr-tiny', '--out', at('swap'), '--overwrite', '--quiet');
    expect([over.status, over.stderr]).toEqual([1, expect.stringContaining(`${at('swap', 'retina')} holds a study that is not this reproduction's`)]);
    expect(fs.readFileSync(at('swap', 'retina', 'results.json'), 'utf8')).toBe('{"mine":3}');
    // --merge into a folder whose part folder holds a study: refused before anything is merged.
    write(at('shardA'), { ...record(), shard: { index: 0, count: 2 } });
    write(at('shardB'), { ...record(), shard: { index: 1, count: 2 } });
    write(at('into', 'retina'), { mine: 4 });
    expect(() => mergeReproductions([at('shardA'), at('shardB')], at('into'))).toThrow(`${at('into', 'retina')} holds a study; merge into another --out`);
    // Under launch, --merge is refused: every rank would write the same --out.
    const ranks = spawnSync(process.execPath, [bin, 'reproduce', '--merge', at('shardA'), at('shardB'), '--out', at('never')], {
      encoding: 'utf8', env: { ...process.env, RANK: '0', WORLD_SIZE: '2', MASTER_ADDR: '127.0.0.1', MASTER_PORT: '29999' },
    });
    expect([ranks.status, ranks.stderr]).toEqual([2, expect.stringContaining('--merge runs in one process: run it without launch')]);

    // A run recorded twice would count as two seeds; a million seeds is not a plan.
    const t = FIXTURES.table1();
    t.runs.push({ ...t.runs[0] });
    expect(() => scoreFindings(new Map([['retina', t]]), {})).toThrow(/runs\[\d+\] \(cbr-small random seed 0\) is recorded twice/);
    expect(() => reproducePlan({ preset: 'tiny', seeds: Array.from({ length: 1e6 }, (_, i) => i) })).toThrow('Expected `seeds` to be at most 100 seeds but received "1000000 seeds"');
    expect(() => validateSpec({ ...preset('tiny'), seeds: Array.from({ length: 2000 }, (_, i) => i) })).toThrow('at most 1,000 seeds');
    // pickMetrics names an unknown metric.
    const r = await similarity({ data: Float64Array.from({ length: 60 }, (_, i) => Math.sin(i)), shape: [20, 3] }, { data: Float64Array.from({ length: 60 }, (_, i) => Math.cos(i * 1.3)), shape: [20, 3] });
    expect(() => pickMetrics(r, ['nosuch' as never])).toThrow('Expected `metrics` to be one of');
    expect(pickMetrics(r, ['procrustes'])).toEqual({ procrustes: r.procrustes });
  }, 60000);
});

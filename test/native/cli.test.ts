import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { runFixture } from '../helpers/python';
import { tempDir } from '../helpers/tmp';

const bin = path.resolve(__dirname, '../../bin/transfusion-native.js');
const cli = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, TRANSFUSION_THREADS: '2' } });

describe('the CLI', () => {
  const dir = tempDir('cli');
  const cache = path.join(dir, 'cache');

  it('runs the tiny preset and writes results.json and a Table-1 report', () => {
    const out = path.join(dir, 'run1');
    const r = cli('run', '--preset', 'tiny', '--out', out, '--cache-dir', cache);
    expect(r.stderr).toContain('study: 8 training runs');
    expect(r.status).toBe(0);
    const results = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));
    expect(results.schema).toBe('transfusion-native/results@2');
    expect(results.finishedAt).toEqual(expect.any(String));
    expect(results.runs).toHaveLength(8);
    for (const run of results.runs) {
      expect(run).toMatchObject({ model: expect.stringMatching(/^cbr-(tiny|small)$/), init: expect.stringMatching(/^(random|transfer)$/), seed: expect.any(Number), steps: 8 });
      expect(run.auc).toBeGreaterThan(0);
      expect(run.auc).toBeLessThanOrEqual(1);
      expect(run.wallSeconds).toBeGreaterThan(0);
    }
    expect(results.pretraining.map((p: { cached: boolean }) => p.cached)).toEqual([false, false]);
    const report = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
    expect(report).toMatch(/\| CBR-Tiny \| [\d.]+ ± [\d.]+ \(n=2\) \| [\d.]+ ± [\d.]+ \(n=2\) \| 1,076,480 \| 1,079,845 \|/);
    expect(report).toMatch(/\| CBR-Small \| .* \| 2,108,672 \| 2,114,341 \|/);
    expect(r.stdout).toContain('## Table 1');
    // The paths come last, after the report scrolled by (issue 31).
    expect(r.stderr.trimEnd().split('\n').at(-1)).toBe(`report: ${path.join(out, 'report.md')}, ${path.join(out, 'report.html')}; results: ${path.join(out, 'results.json')}`);
    // The tables for pandas and R, beside results.json.
    const runsCsv = fs.readFileSync(path.join(out, 'runs.csv'), 'utf8').trim().split('\n');
    expect(runsCsv[0]).toMatch(/^model,init,seed,auc,steps_to_threshold,/);
    expect(runsCsv).toHaveLength(9);
    expect(fs.readFileSync(path.join(out, 'curves.csv'), 'utf8').split('\n')[0]).toBe('model,init,seed,step,auc');
  });

  it('reuses cached pretrained weights on a second run, and says so', () => {
    const out = path.join(dir, 'run2');
    const r = cli('run', '--preset', 'tiny', '--out', out, '--cache-dir', cache, '--seed', '5');
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('cbr-tiny: cached weights found, pretraining skipped');
    const results = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));
    expect(results.pretraining.map((p: { cached: boolean }) => p.cached)).toEqual([true, true]);
    expect(results.spec.seeds).toEqual([5, 6]);
  });

  it('lists the registry as JSON with both parameter counts', () => {
    // The table's columns line up on every row, Slim's long display name included (issue 31).
    const rows = cli('models').stdout.trimEnd().split('\n');
    expect(new Set(rows.map((row) => row.indexOf(' paper '))).size).toBe(1);
    const r = cli('models', '--json');
    expect(r.status).toBe(0);
    const models = JSON.parse(r.stdout);
    expect(models.find((m: { name: string }) => m.name === 'cbr-largew').params).toEqual({ numel: 8_443_461, paper: 8_432_128 });
  });

  it('rejects a bad argument naming it', () => {
    const r = cli('run', '--preset', 'huge', '--out', path.join(dir, 'bad'));
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('Unknown preset "huge"; known presets: quick, laptop, tiny, paper (ERR_INVALID_ARG)');
    const s = cli('run', '--preset', 'tiny', '--seed', '-1', '--out', path.join(dir, 'bad2'), '--cache-dir', cache);
    expect(s.status).toBe(2);
    expect(s.stderr).toContain('Expected `--seed` to be a non-negative integer but received -1 (ERR_INVALID_ARG)');
  });
});

describe('the CLI with the ImageNet architectures and your own weights', () => {
  const dir = tempDir('cli-imagenet');

  it('runs Slim and Inception-v3 at the sizes they need, transferring from a torchvision ResNet-50 file', () => {
    runFixture('torchvision_reference.py', ['--model', 'resnet50', '--out', dir, '--size', '32', '--batch', '4']);
    const out = path.join(dir, 'run');
    const weights = path.join(dir, 'before.pth');
    const r = cli('run', '--preset', 'tiny', '--models', 'resnet50-slim,inception_v3', '--weights', `resnet50=${weights}`,
      '--out', out, '--cache-dir', path.join(dir, 'cache'));
    expect(r.stderr).toContain('pretrain: resnet50: using your weights, pretraining skipped');
    expect(r.status).toBe(0);
    const results = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));
    const runs = results.runs as { model: string; init: string; imageSize: number; load?: { from: string; loaded: number } }[];
    expect(runs).toHaveLength(8);
    expect(new Set(runs.filter((x) => x.model === 'inception_v3').map((x) => x.imageSize))).toEqual(new Set([75]));
    expect(new Set(runs.filter((x) => x.model === 'resnet50-slim').map((x) => x.imageSize))).toEqual(new Set([32]));
    const slimTransfer = runs.find((x) => x.model === 'resnet50-slim' && x.init === 'transfer')!;
    // conv1 + bn1 (1 + 5 tensors), then 18 per Bottleneck and 6 per downsample: layer1 (3 blocks), layer2 (4)
    expect(slimTransfer.load).toMatchObject({ from: 'resnet50', loaded: 6 + (3 * 18 + 6) + (4 * 18 + 6) });
    expect(results.pretraining.map((p: { model: string; source: string }) => [p.model, p.source])).toEqual([['resnet50', 'file'], ['inception_v3', 'natural']]);
    const report = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
    expect(report).toMatch(/\| Slim \(ResNet-50, halved layer3\/layer4\) \| .* \| 7,140,421 \| 7,140,421 \| your weights: before\.pth \(resnet50's\) \|/);
    expect(report).toContain('Inception-v3 75 px');
  });

  it('names a bad --weights entry', () => {
    const r = cli('run', '--preset', 'tiny', '--weights', 'resnet50', '--out', path.join(dir, 'bad'));
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('Expected `--weights` entries as MODEL=PATH but received "resnet50"');
    const s = cli('run', '--preset', 'tiny', '--weights', 'resnet50=/nonexistent.pth', '--out', path.join(dir, 'bad'));
    expect(s.status).toBe(2);
    expect(s.stderr).toContain('Expected `weights.resnet50` to be the path of an existing weight file but received "/nonexistent.pth"');
    const t = cli('run', '--preset', 'tiny', '--image-size', 'resnet50', '--out', path.join(dir, 'bad'));
    expect(t.status).toBe(2);
    expect(t.stderr).toContain('Expected `--image-size` entries as MODEL=VALUE but received "resnet50"');
  });
});

describe('the CLI running the Section 5 experiments', () => {
  const dir = tempDir('cli-section5');
  const cache = path.join(dir, 'cache');
  const read = (out: string) => JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));

  it('runs meanvar (Figure 6): random, transfer and Mean Var curves with steps to the threshold', () => {
    const out = path.join(dir, 'meanvar');
    const r = cli('run', 'meanvar', '--preset', 'tiny', '--models', 'cbr-small', '--threshold', '0.6', '--out', out, '--cache-dir', cache);
    expect(r.status).toBe(0);
    const results = read(out);
    expect(results.spec.experiment).toBe('meanvar');
    expect(results.runs.map((x: { init: string }) => x.init)).toEqual(['random', 'random', 'transfer', 'transfer', 'meanvar', 'meanvar', 'shuffle', 'shuffle']);
    for (const run of results.runs) {
      expect(run.curve.length).toBeGreaterThanOrEqual(8);  // validation every step at this scale: a curve, not a point
      const reached = run.curve.find((p: { auc: number }) => p.auc >= 0.6);
      expect(run.stepsToThreshold).toBe(reached ? reached.step : null);
    }
    expect(results.runs[4].load).toMatchObject({ init: 'meanvar', drawn: 12, from: 'cbr-small' });
    expect(results.runs[6].load).toMatchObject({ init: 'shuffle', drawn: 12, from: 'cbr-small' });
    const report = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
    expect(report).toContain('(Figure 6: convergence of random, transfer, Mean Var');
    expect(report).toMatch(/\| cbr-small \| shuffle \| (never|[\d.]+ ± [\d.]+) \| \d\/2 \|/);
    expect(report).toMatch(/\| cbr-small \| meanvar \| (never|[\d.]+ ± [\d.]+) \| \d\/2 \| [\d.]+ ± [\d.]+ \(n=2\) \|/);
  });

  it('runs hybrids (Figure 8) for ResNet-50: Slim and Gabor conv1 against transfer and random', () => {
    const out = path.join(dir, 'hybrids');
    const r = cli('run', 'hybrids', '--preset', 'tiny', '--models', 'resnet50', '--out', out, '--cache-dir', cache);
    expect(r.status).toBe(0);
    const runs = read(out).runs as { model: string; init: string; load?: { from?: string; gabor?: { scaledToPretrained: boolean } } }[];
    expect(runs.map((x) => `${x.model}:${x.init}`)).toEqual([
      'resnet50:random', 'resnet50:random', 'resnet50:transfer', 'resnet50:transfer',
      'resnet50-slim:slim', 'resnet50-slim:slim', 'resnet50:gabor', 'resnet50:gabor',
    ]);
    expect(runs[4].load?.from).toBe('resnet50');
    expect(runs[6].load?.gabor?.scaledToPretrained).toBe(true);
  });

  it('names an unknown experiment', () => {
    const r = cli('run', 'figure9', '--preset', 'tiny', '--out', path.join(dir, 'bad'));
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('Unknown experiment "figure9"; known experiments: table1, chexpert, small-data, meanvar, transfusion, hybrids, similarity, layers, init-vs-final, filters');
  });
});

describe('the CLI\'s manners', () => {
  const dir = tempDir('cli-manners');

  it('answers a bare invocation with the help (run first), suggests the command a typo meant, and knows -v', () => {
    const cwd = path.join(dir, 'bare');
    fs.mkdirSync(cwd);
    const bare = spawnSync(process.execPath, [bin], { encoding: 'utf8', cwd });
    expect(bare.status).toBe(0);
    expect(bare.stdout).toMatch(/^transfusion-native <command> \[options\][\s\S]*Commands:\s+transfusion-native run \[experiment\]/);
    expect(fs.existsSync(path.join(cwd, 'runs'))).toBe(false);  // no study started
    for (const [typo, meant] of [['modles', 'models'], ['lsit', 'list'], ['bnech', 'bench']]) {
      const r = cli(typo);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`Did you mean ${meant}?`);
    }
    const version = cli('-v');
    expect(version.status).toBe(0);
    expect(version.stdout.trim()).toBe(JSON.parse(fs.readFileSync(path.join(__dirname, '../../package.json'), 'utf8')).version);
  });

  it('stops on SIGTERM after the current step, says how to resume, exits 143, and the resume finishes the study', async () => {
    const out = path.join(dir, 'interrupted');
    const child = spawn(process.execPath, [bin, 'run', '--preset', 'tiny', '--out', out, '--cache-dir', path.join(dir, 'cache'), '--json'], {
      env: { ...process.env, TRANSFUSION_THREADS: '2' },
    });
    let stderr = '', events = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve) => {
      // --json progress is on stdout: wait until the first downstream training run is under way.
      child.stdout.on('data', (chunk: Buffer) => {
        events += chunk.toString();
        if (/"phase":"run"[^\n]*"kind":"step"/.test(events)) resolve();
      });
      child.on('exit', () => resolve());
    });
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
    expect(stderr).toContain(`Resume with: transfusion-native run --resume ${out}`);
    expect(fs.existsSync(path.join(out, '.lock'))).toBe(false);
    const resumed = cli('run', '--resume', out, '--cache-dir', path.join(dir, 'cache'), '--quiet');
    expect(resumed.status).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')).runs).toHaveLength(8);
  });

  it('prints report.md with the control characters a crafted results.json holds escaped', async () => {
    const { table1 } = await import('../helpers/results');
    const crafted = path.join(dir, 'crafted');
    fs.mkdirSync(crafted);
    const results = table1();
    results.spec.why = 'clear the screen \u001b[2J\u001b]0;owned\u0007 here';
    fs.writeFileSync(path.join(crafted, 'results.json'), JSON.stringify(results));
    const r = cli('report', crafted);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('clear the screen \\x1b[2J\\x1b]0;owned\\x07 here');
    expect(r.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
  });

  it('refuses a CUDA study on a machine without CUDA before it makes the run directory (issue 31)', () => {
    if (require('../../src').cudaAvailable()) return;  // a GPU machine runs it
    const out = path.join(dir, 'cuda-here');
    const r = cli('run', '--preset', 'tiny', '--device', 'cuda', '--out', out);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('The study asks for device "cuda" but this machine has no CUDA device');
    expect(r.stderr).toContain('(ERR_NO_CUDA)');
    expect(fs.existsSync(out)).toBe(false);
  });

  it('resumes a study on another device: --device is the one study flag --resume takes, each run recording its own (issue 31)', () => {
    const out = path.join(dir, 'moved');
    expect(cli('run', '--preset', 'tiny', '--models', 'cbr-tiny', '--out', out, '--quiet').status).toBe(0);
    // As a study started on a GPU machine and stopped there would be: its spec on CUDA, one run left to do.
    const file = path.join(out, 'results.json');
    const started = JSON.parse(fs.readFileSync(file, 'utf8'));
    const left = started.runs.pop();
    started.spec.device = 'cuda';
    for (const run of started.runs) run.device = 'cuda';
    delete started.finishedAt;
    fs.writeFileSync(file, JSON.stringify(started));
    if (!require('../../src').cudaAvailable()) {
      const stuck = cli('run', '--resume', out, '--quiet');
      expect(stuck.status).toBe(1);
      expect(stuck.stderr).toContain('ERR_NO_CUDA');
    }
    expect(cli('run', '--resume', out, '--preset', 'quick').stderr).toContain('drop --preset');
    const moved = cli('run', '--resume', out, '--device', 'cpu', '--threads', '1', '--quiet');
    expect(moved.stderr).toBe('');
    expect(moved.status).toBe(0);
    const done = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(done.spec.device).toBe('cpu');
    expect(done.runs.map((r: { device: string }) => r.device)).toEqual([...started.runs.map(() => 'cuda'), 'cpu']);
    expect(done.runs.at(-1)).toMatchObject({ model: left.model, init: left.init, seed: left.seed });
    expect(fs.readFileSync(path.join(out, 'report.md'), 'utf8')).toContain(`- Resumed on another device: runs trained on cuda (${started.runs.length}), cpu (1).`);
  }, 300_000);

  it('shows an example in --help for every command', () => {
    for (const command of ['run', 'reproduce', 'report', 'list', 'cca', 'models', 'schema', 'bench', 'launch']) {
      const r = cli(command, '--help');
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('Examples:');
      expect(r.stdout).toContain(`transfusion-native ${command}`);
    }
  });

  it('refuses unknown flags and bad values instead of ignoring them', () => {
    const unknown = cli('run', '--preset', 'tiny', '--stepz', '5', '--out', path.join(dir, 'x'));
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('Unknown argument: stepz; did you mean --steps?');  // as a mistyped command gets (issue 31)
    expect(cli('reproduce', '--preest', 'tiny').stderr).toContain('Unknown argument: preest; did you mean --preset?');
    expect(cli('run', '--xyzzy', '1').stderr).toContain('Unknown argument: xyzzy (ERR_INVALID_ARG)');
    const threads = cli('run', '--preset', 'tiny', '--threads', 'many', '--out', path.join(dir, 'x'));
    expect(threads.status).toBe(2);
    expect(threads.stderr).toContain('Expected `--threads` to be a decimal number but received "many"');
    // More threads than cores only spin (issue 28): the bound is named.
    const cores = require('node:os').availableParallelism();
    const many = cli('run', '--preset', 'tiny', '--threads', String(cores + 1), '--out', path.join(dir, 'x'));
    expect(many.status).toBe(2);
    expect(many.stderr).toContain(`Expected \`--threads\` to be an integer in [1, ${cores}] (this machine's ${cores} core(s): more threads than cores only slow LibTorch down) but received ${cores + 1}`);
    // Hex, binary and empty text are refused by name, not read as 16, 1 or 0 (issue 28); a launched command's own
    // flags are its own to check.
    for (const [flag, text] of [['--steps', '0x10'], ['--lr', '0x1'], ['--seed', '0b1'], ['--steps', '']]) {
      const r = cli('run', '--preset', 'tiny', flag, text, '--out', path.join(dir, 'x'));
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`Expected \`${flag}\` to be a decimal number but received ${JSON.stringify(text)}`);
    }
    expect(cli('run', '--preset', 'tiny', '--steps=0x10', '--out', path.join(dir, 'x')).stderr).toContain('received "0x10"');
    expect(cli('reproduce', '--seeds', '0x2').stderr).toContain('Expected `--seeds` to be a decimal number but received "0x2"');
    // A text flag given no text is refused, not read as "" (which --resume and --out take for the current directory).
    expect(cli('reproduce', '--resume', '--cache-dir', dir).stderr).toContain('Expected `--resume` to be given a value but received none (ERR_INVALID_ARG)');
    expect(cli('run', '--preset', 'tiny', '--out=').stderr).toContain('Expected `--out` to be given a value but received ""');
    expect(cli('run', '--preset', 'tiny', '--out').stderr).toContain('Expected `--out` to be given a value but received none');
    const every = cli('run', '--preset', 'tiny', '--checkpoint-every', '-3', '--out', path.join(dir, 'x'));
    expect(every.status).toBe(2);
    expect(every.stderr).toContain('Expected `--checkpoint-every` to be an integer');
    expect(fs.existsSync(path.join(dir, 'x'))).toBe(false);
  });

  it('runs a study from a file, and names the field a bad file gets wrong', () => {
    const file = path.join(dir, 'study.json');
    fs.writeFileSync(file, JSON.stringify({ preset: 'tiny', models: ['cbr-tiny'], inits: ['random'], seeds: [7], train: { steps: 3, evalEvery: 0 } }));
    const out = path.join(dir, 'from-file');
    const r = cli('run', '--config', file, '--out', out, '--cache-dir', path.join(dir, 'cache'), '--quiet');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const results = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));
    expect(results.spec.name).toBe('study');
    expect(results.runs.map((x: { model: string; seed: number; steps: number }) => [x.model, x.seed, x.steps])).toEqual([['cbr-tiny', 7, 3]]);
    fs.writeFileSync(file, JSON.stringify({ preset: 'tiny', train: { stepz: 3 } }));
    const bad = cli('run', '--config', file, '--out', path.join(dir, 'y'));
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain(`${file} does not describe a study:\n  /train: unknown field "stepz"`);
    // A name with a newline and an escape would name the run directory and reach report.md raw (issue 28).
    fs.writeFileSync(file, JSON.stringify({ preset: 'tiny', name: 'evil\n\u001b[31mred' }));
    const named = cli('run', '--config', file);
    expect(named.status).toBe(2);
    expect(named.stderr).toContain('Expected `name` to be a name of 1-200 printable characters (no newline, tab or escape) but received "evil\\n\\u001b[31mred"');
    expect(named.stderr).not.toContain('\u001b');
    const both = cli('run', 'meanvar', '--config', file);
    expect(both.status).toBe(2);
    expect(both.stderr).toContain(`--config ${file} names its experiment and preset; drop the experiment "meanvar"`);
    const schema = JSON.parse(cli('schema').stdout);
    expect(schema.title).toBe('transfusion-native study');
    // --out writes it for an editor; a different file already there is kept unless --overwrite.
    const schemaFile = path.join(dir, 'study.schema.json');
    expect(cli('schema', '--out', schemaFile).status).toBe(0);
    expect(JSON.parse(fs.readFileSync(schemaFile, 'utf8'))).toEqual(schema);
    expect(cli('schema', '--out', schemaFile).status).toBe(0);  // the same schema again
    fs.writeFileSync(schemaFile, '{"mine": true}');
    const kept = cli('schema', '--out', schemaFile);
    expect(kept.status).toBe(2);
    expect(kept.stderr).toContain(`${schemaFile} exists and is not this schema; choose another --out or add --overwrite`);
    expect(fs.readFileSync(schemaFile, 'utf8')).toBe('{"mine": true}');
    expect(cli('schema', '--out', schemaFile, '--overwrite').status).toBe(0);
    expect(JSON.parse(fs.readFileSync(schemaFile, 'utf8'))).toEqual(schema);
  });
});

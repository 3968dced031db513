// `compare A B --model M`: a minibatch CKA heatmap of two weight files from the command line (issue 29).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { createModel, generateRetina, minibatchCka } from '../../src';
import { DEBIAN_FASHION_MNIST } from '../../src/data/files/formats';
import { tempDir } from '../helpers/tmp';

const bin = path.resolve(__dirname, '../../bin/transfusion-native.js');
const cli = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir, env: { ...process.env, TRANSFUSION_THREADS: '2' } });
const dir = tempDir('compare');

describe('transfusion-native compare', () => {
  beforeAll(async () => {
    const a = createModel('cbr-tiny', { seed: 1, numClasses: 1 }), b = createModel('cbr-tiny', { seed: 2, numClasses: 3 });
    await a.saveWeights(path.join(dir, 'a.safetensors'));
    await b.saveWeights(path.join(dir, 'b.safetensors'));
    [a, b].forEach((m) => m.dispose());
  });

  it('gives the library\'s heatmap on embedded probe images, sizing each head from its file, and writes it once', async () => {
    const r = cli('compare', 'a.safetensors', 'b.safetensors', '--model', 'cbr-tiny', '--probe', '48', '--batch', '16', '--seed', '5', '--json');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    const a = createModel('cbr-tiny', { numClasses: 1 }), b = createModel('cbr-tiny', { numClasses: 3 });
    await a.loadWeights(path.join(dir, 'a.safetensors'));
    await b.loadWeights(path.join(dir, 'b.safetensors'));
    const probe = await generateRetina({ count: 48, size: 64, seed: 5 });
    const h = await minibatchCka(a, b, probe, { layers: 'all', batchSize: 16 });
    [a, b, probe].forEach((x) => x.dispose());
    expect(out).toMatchObject({ a: { model: 'cbr-tiny' }, size: 64, layers: 'all', stagesA: h.stagesA, stagesB: h.stagesB, batches: 3, images: 48 });
    expect(out.values).toEqual(h.values);

    const text = cli('compare', 'a.safetensors', 'b.safetensors', '--model', 'cbr-tiny', '--probe', '16');
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/^layer1 +\d\.\d{4} layer\d +\d\.\d{4}$/m);
    expect(text.stdout).toContain('(16 images in 1 minibatches)');

    const written = cli('compare', 'a.safetensors', 'b.safetensors', '--model', 'cbr-tiny', '--probe', '16', '--out', 'maps');
    expect(written.status).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'maps', 'heatmap.json'), 'utf8')).stagesA).toEqual(h.stagesA);
    expect(fs.readFileSync(path.join(dir, 'maps', 'heatmap.svg'), 'utf8')).toContain('<svg');
    expect(fs.readFileSync(path.join(dir, 'maps', 'heatmap.png')).subarray(1, 4).toString()).toBe('PNG');
    const before = fs.readFileSync(path.join(dir, 'maps', 'heatmap.json'), 'utf8');
    const again = cli('compare', 'a.safetensors', 'b.safetensors', '--model', 'cbr-tiny', '--probe', '20', '--out', 'maps');
    expect(again.status).toBe(2);
    expect(again.stderr).toContain('maps/heatmap.json, maps/heatmap.svg, maps/heatmap.png exist: choose another --out (nothing is replaced)');
    expect(fs.readFileSync(path.join(dir, 'maps', 'heatmap.json'), 'utf8')).toBe(before);
  }, 120_000);

  it('takes the probe from the validation split of the user\'s data', () => {
    if (!fs.existsSync(DEBIAN_FASHION_MNIST)) throw new Error(`${DEBIAN_FASHION_MNIST} is missing: apt-get install dataset-fashion-mnist`);
    const r = cli('compare', 'a.safetensors', 'b.safetensors', '--model', 'cbr-tiny', '--data', DEBIAN_FASHION_MNIST, '--probe', '32', '--layers', 'stages', '--json', '--cache-dir', path.join(dir, 'cache'));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ layers: 'stages', images: 32, stagesA: ['layer1', 'layer2', 'layer3', 'layer4', 'head'] });
  }, 120_000);

  it('names a wrong architecture, layer set, file or flag', () => {
    const wrong = cli('compare', 'a.safetensors', 'b.safetensors', '--model', 'resnet50');
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toContain('a.safetensors: Weight file "a.safetensors" has no tensor "fc.weight" (is it a resnet50?)');
    expect(cli('compare', 'a.safetensors', 'b.safetensors', '--model', 'vgg').stderr).toContain('Expected `--model` to be one of cbr-larget');
    expect(cli('compare', 'a.safetensors', 'b.safetensors', '--model', 'cbr-tiny', '--layers', 'some').stderr).toContain('--layers');
    expect(cli('compare', 'a.safetensors', 'missing.pt', '--model', 'cbr-tiny').stderr).toContain('missing.pt');
    expect(cli('compare', 'a.safetensors', 'b.safetensors', '--model', 'cbr-tiny', '--batch', '3').stderr).toContain('--batch');
  }, 60_000);
});

// Users' datasets in their real formats, written here by the tests (JPEG/PNG by sharp, .npz by numpy, idx by hand):
// EyePACS, CheXpert, MedMNIST, image folders and Fashion-MNIST, with splits, subsampling and bad input.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

import sharp from 'sharp';

import { detectFormat } from '../../src/data/files/formats';
import { readChexpert } from '../../src/data/files/chest-datasets';
import { readFashionMnist, readFolder } from '../../src/data/files/folder-datasets';
import { readMedmnist } from '../../src/data/files/medmnist';
import { readEyepacs } from '../../src/data/files/retina-datasets';
import { splitByGroup, stratifiedSample } from '../../src/data/files/load';
import { loadDataset } from '../../src';
import { runFixture } from '../helpers/python';
import { tempDir } from '../helpers/tmp';
import { taskLabels } from '../../src/experiments/task';

const dir = tempDir('files');

async function writeImage(file: string, seed: number, grey = false): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const channels = grey ? 1 : 3;
  const pixels = Buffer.alloc(24 * 24 * channels);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 7 + seed * 31) % 256;
  const image = sharp(pixels, { raw: { width: 24, height: 24, channels } });
  await (file.endsWith('.png') ? image.png() : image.jpeg()).toFile(file);
}

describe('EyePACS (Kaggle DR)', () => {
  const root = path.join(dir, 'eyepacs');
  const rows = [['10_left', 0], ['10_right', 2], ['13_left', 1], ['13_right', 4], ['15_left', 3], ['15_right', 0], ['16_left', 2], ['16_right', 2], ['17_left', 0], ['17_right', 1]] as const;
  beforeAll(async () => {
    fs.mkdirSync(root, { recursive: true });
    fs.writeFileSync(path.join(root, 'trainLabels.csv'), 'image,level\n' + rows.map(([n, l]) => `${n},${l}`).join('\n') + '\n');
    await Promise.all(rows.map(([n], i) => writeImage(path.join(root, 'train', `${n}.jpeg`), i)));
  });

  it('reads trainLabels.csv beside train/: referable = level >= 2, grades kept, patients from the image names', () => {
    const set = readEyepacs(root);
    expect(Array.from(set.targets)).toEqual(rows.map(([, l]) => (l >= 2 ? 1 : 0)));
    expect(set.grades).toEqual(rows.map(([, l]) => l));
    expect(new Set(set.groups)).toEqual(new Set(['10', '13', '15', '16', '17']));
    expect(detectFormat(root)).toBe('eyepacs');
  });

  it('splits by patient (no eye of one patient on both sides) and decodes to normalised tensors', async () => {
    const split = splitByGroup(readEyepacs(root), 0.4, 7);
    const groups = (idx: number[]) => new Set(idx.map((i) => rows[i][0].split('_')[0]));
    expect([...groups(split.train)].filter((g) => groups(split.val).has(g))).toEqual([]);
    expect(split.train.length + split.val.length).toBe(rows.length);
    const cacheDir = path.join(dir, 'eyepacs-cache');
    const data = await loadDataset({ path: root, valFraction: 0.4 }, { size: 16, seed: 7, cacheDir });
    expect(data.fromCache).toEqual({ train: false, val: false });
    expect(data.train.info()).toMatchObject({ source: 'eyepacs', task: 'binary', count: split.train.length, height: 16, width: 16 });
    expect(Array.from(data.train.targets())).toEqual(split.train.map((i) => (rows[i][1] >= 2 ? 1 : 0)));
    // The decoded images live in a memory-mapped file: a second load reads it instead of decoding, to the same pixels.
    const again = await loadDataset({ path: root, valFraction: 0.4 }, { size: 16, seed: 7, cacheDir });
    expect(again.fromCache).toEqual({ train: true, val: true });
    expect(Array.from(again.train.meanColour())).toEqual(Array.from(data.train.meanColour()));
    // ... and the same as decoding in memory: sharp's pixels, normalised as the embedded data are.
    const first = await sharp(path.join(root, 'train', `${rows[split.train[0]][0]}.jpeg`)).resize(16, 16, { fit: 'fill' }).removeAlpha().raw().toBuffer();
    const mean = [0, 1, 2].map((c) => Array.from({ length: 256 }, (_, p) => first[3 * p + c]).reduce((a, b) => a + b, 0) / 256);
    const expected = mean.map((m, c) => (m / 255 - [0.485, 0.456, 0.406][c]) / [0.229, 0.224, 0.225][c]);
    Array.from(data.train.meanColour().subarray(0, 3)).forEach((v, c) => expect(v).toBeCloseTo(expected[c], 4));
    [data.train, data.val, again.train, again.val].forEach((d) => d.dispose());
  });

  it('names the file and row of a bad level, a missing image and a corrupt one; skips and counts with onBadImage skip', async () => {
    const bad = path.join(dir, 'eyepacs-bad');
    fs.mkdirSync(path.join(bad, 'train'), { recursive: true });
    fs.writeFileSync(path.join(bad, 'trainLabels.csv'), 'image,level\n1_left,0\n1_right,7\n');
    expect(() => readEyepacs(bad)).toThrow(`${path.join(bad, 'trainLabels.csv')} row 3: level "7" is not a grade 0-4`);
    fs.writeFileSync(path.join(bad, 'trainLabels.csv'), 'image,grade\n1_left,0\n');
    expect(() => readEyepacs(bad)).toThrow('missing column "level"');
    fs.writeFileSync(path.join(bad, 'trainLabels.csv'), 'image,level\n1_left,0\n1_right,2\n2_left,2\n2_right,0\n3_left,1\n');
    await Promise.all(['1_left', '2_left', '2_right', '3_left'].map((n, i) => writeImage(path.join(bad, 'train', `${n}.jpeg`), i)));
    await expect(loadDataset({ path: bad, valFraction: 0.34 }, { size: 16, seed: 1 })).rejects.toThrow(/trainLabels\.csv row 3: cannot read the image \(no such file .*1_right\.jpeg\)/);
    fs.writeFileSync(path.join(bad, 'train', '1_right.jpeg'), 'not a jpeg at all');
    await expect(loadDataset({ path: bad, valFraction: 0.34 }, { size: 16, seed: 1 })).rejects.toThrow(/row 3: cannot read the image/);
    const skipped = await loadDataset({ path: bad, valFraction: 0.34, onBadImage: 'skip' }, { size: 16, seed: 1 });
    expect(skipped.skipped.map((s) => s.where)).toEqual([`${path.join(bad, 'trainLabels.csv')} row 3`]);
    expect(skipped.train.count + skipped.val.count).toBe(4);
    [skipped.train, skipped.val].forEach((d) => d.dispose());
  });
});

describe('CheXpert', () => {
  const root = path.join(dir, 'CheXpert-v1.0-small');
  const header = 'Path,Sex,Age,Frontal/Lateral,AP/PA,No Finding,Enlarged Cardiomediastinum,Cardiomegaly,Lung Opacity,Lung Lesion,Edema,Consolidation,Pneumonia,Atelectasis,Pneumothorax,Pleural Effusion,Pleural Other,Fracture,Support Devices';
  // Cardiomegaly, Edema, Consolidation, Atelectasis, Pleural Effusion sit in columns 7, 10, 11, 13, 15.
  const line = (patient: number, view: string, [cardio, edema, consol, atel, eff]: string[]) =>
    `CheXpert-v1.0-small/train/patient0000${patient}/study1/view1_${view.toLowerCase()}.jpg,Female,60,${view},AP,,,${cardio},,,${edema},${consol},,${atel},,${eff},,,`;
  beforeAll(async () => {
    const lines = [
      line(1, 'Frontal', ['1', '', '0', '-1', '1.0']),
      line(1, 'Lateral', ['1', '', '0', '', '1']),
      line(2, 'Frontal', ['0', '-1', '', '1', '-1']),
      line(3, 'Frontal', ['', '1', '1', '0', '0']),
      line(4, 'Frontal', ['-1', '0', '-1', '', '']),
    ];
    fs.mkdirSync(root, { recursive: true });
    fs.writeFileSync(path.join(root, 'train.csv'), [header, ...lines].join('\n') + '\n');
    for (const [p, v] of [[1, 'frontal'], [1, 'lateral'], [2, 'frontal'], [3, 'frontal'], [4, 'frontal']] as const)
      await writeImage(path.join(root, 'train', `patient0000${p}`, 'study1', `view1_${v}.jpg`), p, true);
  });

  it('reads the five findings with the default uncertainty policy, frontal only, paths as the download lays them out', () => {
    const set = readChexpert(path.join(root, 'train.csv'));
    expect(set.labels).toEqual(['Atelectasis', 'Cardiomegaly', 'Consolidation', 'Edema', 'Pleural Effusion']);
    expect(set.inputs).toHaveLength(4);
    expect(set.inputs[0]).toEqual({ file: path.join(root, 'train', 'patient00001', 'study1', 'view1_frontal.jpg') });
    // Default: -1 -> 1 for Atelectasis and Edema, 0 for the rest; blank -> 0.
    expect(Array.from(set.targets.subarray(0, 5))).toEqual([1, 1, 0, 0, 1]);
    expect(Array.from(set.targets.subarray(5, 10))).toEqual([1, 0, 0, 1, 0]);
    expect(set.mask).toBeUndefined();
    expect(set.groups).toEqual(['patient00001', 'patient00002', 'patient00003', 'patient00004']);
    expect(readChexpert(path.join(root, 'train.csv'), { frontalOnly: false }).inputs).toHaveLength(5);
  });

  it('masks uncertain labels under "ignore" and names a bad value by file and row', () => {
    const set = readChexpert(path.join(root, 'train.csv'), { policy: { Atelectasis: 'ignore', 'Pleural Effusion': 'ones' } });
    expect(Array.from(set.mask!.subarray(0, 5))).toEqual([0, 1, 1, 1, 1]);
    expect(set.targets[1 * 5 + 4]).toBe(1);
    const bad = path.join(dir, 'chexpert-bad.csv');
    fs.writeFileSync(bad, [header, line(1, 'Frontal', ['1', '2', '0', '0', '0'])].join('\n'));
    expect(() => readChexpert(bad)).toThrow(`${bad} row 2: Edema is "2", not 1, 0, -1 or blank`);
  });

  it('loads grey radiographs as three-channel tensors with a patient-level split', async () => {
    const data = await loadDataset({ path: root, format: 'chexpert', valFraction: 0.25 }, { size: 16, seed: 3 });
    expect(data.task).toBe('multilabel');
    expect(data.train.info()).toMatchObject({ task: 'multilabel', outputs: 5, channels: 3 });
    expect(data.train.count + data.val.count).toBe(4);
    const m = data.train.meanColour();
    expect(m[0] * 0.229 + 0.485).toBeCloseTo(m[1] * 0.224 + 0.456, 5);  // grey: equal channels
    [data.train, data.val].forEach((d) => d.dispose());
  });
});

describe('MedMNIST, image folders, Fashion-MNIST', () => {
  it('reads MedMNIST .npz files numpy wrote: RetinaMNIST grades and ChestMNIST\'s paper findings', async () => {
    const folder = path.join(dir, 'medmnist');
    fs.mkdirSync(folder, { recursive: true });
    const written = JSON.parse(runFixture('medmnist_npz.py', [folder]));
    const retina = readMedmnist(path.join(folder, 'retinamnist.npz'));
    expect(retina.splits!.train).toHaveLength(40);
    expect(retina.grades!.slice(0, 40)).toEqual(written.retina_train);
    expect(Array.from(retina.targets.subarray(0, 40))).toEqual(written.retina_train.map((g: number) => (g >= 2 ? 1 : 0)));
    const chest = readMedmnist(path.join(folder, 'chestmnist.npz'));
    expect(chest.labels).toEqual(['Atelectasis', 'Cardiomegaly', 'Consolidation', 'Edema', 'Pleural Effusion']);
    const row0 = written.chest_train[0];
    expect(Array.from(chest.targets.subarray(0, 5))).toEqual([row0[0], row0[1], row0[8], row0[9], row0[2]]);
    const data = await loadDataset({ path: path.join(folder, 'retinamnist.npz') }, { size: 20, seed: 0, trainSize: 20 });
    expect(data.train.count).toBe(20);
    expect(data.val.count).toBe(12);
    expect(data.available).toEqual({ train: 40, val: 12 });
    [data.train, data.val].forEach((d) => d.dispose());
    fs.writeFileSync(path.join(folder, 'broken.npz'), 'PK not really');
    expect(() => readMedmnist(path.join(folder, 'broken.npz'))).toThrow(/broken\.npz: not a zip archive/);
  });

  it('reads an image folder, one sub-folder per class, and Fashion-MNIST idx files', async () => {
    const folder = path.join(dir, 'folder');
    for (const [c, n] of [['cat', 3], ['dog', 2]] as const) for (let i = 0; i < n; i++) await writeImage(path.join(folder, c, `${i}.png`), i);
    const set = readFolder(folder);
    expect(set.labels).toEqual(['cat', 'dog']);
    expect(Array.from(set.targets)).toEqual([0, 0, 0, 1, 1]);
    expect(detectFormat(folder)).toBe('folder');
    // As a study's task, two unordered classes are a binary task scored by AUC (issue 28: as two-class multiclass
    // every run's AUC was null), the second class positive; for pretraining they stay two classes.
    expect(taskLabels({ source: 'files', data: { path: folder }, imageSize: 16, trainSize: 5, valSize: 5, seed: 0 })).toEqual(['dog (against cat)']);
    const asTask = await loadDataset({ path: folder, valFraction: 0.4 }, { size: 16, seed: 0, asTask: true });
    expect(asTask.train.info()).toMatchObject({ task: 'binary', outputs: 1 });
    const asSource = await loadDataset({ path: folder, valFraction: 0.4 }, { size: 16, seed: 0, asTask: false });
    expect(asSource.train.info()).toMatchObject({ task: 'multiclass', outputs: 2 });
    [asTask.train, asTask.val, asSource.train, asSource.val].forEach((d) => d.dispose());

    const fashion = path.join(dir, 'fashion');
    fs.mkdirSync(fashion, { recursive: true });
    const idx = (dims: number[], data: number[]) => {
      const head = Buffer.alloc(4 + 4 * dims.length);
      head.writeUInt8(0x08, 2);
      head.writeUInt8(dims.length, 3);
      dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
      return zlib.gzipSync(Buffer.concat([head, Buffer.from(data)]));
    };
    for (const [prefix, n] of [['train', 6], ['t10k', 3]] as const) {
      fs.writeFileSync(path.join(fashion, `${prefix}-images-idx3-ubyte.gz`), idx([n, 28, 28], Array.from({ length: n * 784 }, (_, i) => i % 256)));
      fs.writeFileSync(path.join(fashion, `${prefix}-labels-idx1-ubyte.gz`), idx([n], Array.from({ length: n }, (_, i) => (i * 3) % 10)));
    }
    const f = readFashionMnist(fashion);
    expect(f.splits).toEqual({ train: [0, 1, 2, 3, 4, 5], val: [6, 7, 8] });
    expect(Array.from(f.targets)).toEqual([0, 3, 6, 9, 2, 5, 0, 3, 6]);
    expect(detectFormat(fashion)).toBe('fashion-mnist');
    const data = await loadDataset({ path: fashion }, { size: 16, seed: 0, asTask: false });
    expect(data.train.info()).toMatchObject({ task: 'multiclass', outputs: 10, count: 6 });
    [data.train, data.val].forEach((d) => d.dispose());
  });

  it('loadDataset (the library\'s entry) refuses a bad description or option by name, before reading anything', async () => {
    const folder = path.join(dir, 'folder');
    const cases: [unknown, unknown, string][] = [
      [{ path: path.join(dir, 'absent') }, { size: 16 }, 'Expected `spec.path` to be an existing file or folder'],
      [{ path: folder, format: 'jpeg' }, { size: 16 }, 'Expected `spec.format` to be one of'],
      [{ path: folder, valFraction: 1 }, { size: 16 }, 'Expected `spec.valFraction` to be a number between 0 and 1'],
      [{ path: folder, policy: { Edema: 'maybe' } }, { size: 16 }, 'Expected `spec.policy.Edema` to be one of'],
      [{ path: folder, frontal: true }, { size: 16 }, 'frontal'],
      [{ path: folder }, { size: 8 }, 'Expected `size` to be an integer in [16, 1024]'],
      [{ path: folder }, { size: 16, trainSize: 1 }, '`trainSize`'],
      [{ path: folder }, { size: 16, asTask: 'yes' }, '`asTask`'],
      [{ path: folder }, undefined, 'an options object for loadDataset()'],
      [undefined, { size: 16 }, 'Expected `spec` to be a dataset'],
    ];
    for (const [spec, options, message] of cases)
      await expect(loadDataset(spec as never, options as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG', message: expect.stringContaining(message) });
  });

  it('subsamples stratified by label and seeded', () => {
    const set = readEyepacs(path.join(dir, 'eyepacs'));
    const all = set.inputs.map((_, i) => i);
    const a = stratifiedSample(set, all, 5, 1), b = stratifiedSample(set, all, 5, 1);
    expect(a).toEqual(b);
    expect(a).toHaveLength(5);
    const positives = (idx: number[]) => idx.filter((i) => set.targets[i] === 1).length;
    expect([2, 3]).toContain(positives(a));  // 5 of 10 positives: a half-share each way
    expect(positives(stratifiedSample(set, all, 4, 2))).toBe(2);
    expect(stratifiedSample(set, all, 4, 2)).not.toEqual(stratifiedSample(set, all, 4, 3));
  });
});

describe('a study on your data (the command line)', () => {
  it('runs Table 1 on an EyePACS folder with pretraining on an image folder, skipping and counting a corrupt image', async () => {
    const { spawnSync } = await import('node:child_process');
    const eyepacs = path.join(dir, 'study-eyepacs'), natural = path.join(dir, 'study-natural');
    const names = Array.from({ length: 24 }, (_, i) => `${100 + Math.floor(i / 2)}_${i % 2 ? 'right' : 'left'}`);
    fs.mkdirSync(path.join(eyepacs, 'train'), { recursive: true });
    fs.writeFileSync(path.join(eyepacs, 'trainLabels.csv'), 'image,level\n' + names.map((n, i) => `${n},${i % 5}`).join('\n') + '\n');
    await Promise.all(names.map((n, i) => (i === 5 ? fs.promises.writeFile(path.join(eyepacs, 'train', `${n}.jpeg`), 'corrupt') : writeImage(path.join(eyepacs, 'train', `${n}.jpeg`), i))));
    for (const c of ['a', 'b', 'c']) for (let i = 0; i < 8; i++) await writeImage(path.join(natural, c, `${i}.png`), i + c.charCodeAt(0));
    const out = path.join(dir, 'study-run');
    const bin = path.resolve(__dirname, '../../bin/transfusion-native.js');
    const args = ['run', '--preset', 'tiny', '--models', 'cbr-tiny', '--seed', '0', '--data', eyepacs, '--pretrain-data', natural, '--on-bad-image', 'skip', '--out', out, '--cache-dir', path.join(dir, 'study-cache'), '--quiet'];
    const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const results = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));
    expect(results.data.format).toBe('eyepacs');
    expect(results.data.skipped).toEqual([{ where: `${path.join(eyepacs, 'trainLabels.csv')} row 7`, reason: expect.any(String) }]);
    expect(results.task.trainSize + results.task.valSize).toBe(23);
    expect(results.pretraining[0]).toMatchObject({ classes: 3, source: 'files' });
    expect(results.runs.map((x: { init: string }) => x.init)).toEqual(['random', 'random', 'transfer', 'transfer']);
    const report = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
    expect(report).toContain(`Task: your data, eyepacs at \`${eyepacs}\``);
    expect(report).toContain('Images left out (unreadable, --on-bad-image skip): 1.');
    // Without skip, the corrupt image stops the run and names its row.
    const strictArgs = args.filter((a) => a !== '--on-bad-image' && a !== 'skip').map((a) => (a === out ? `${out}-strict` : a));
    const strict = spawnSync(process.execPath, [bin, ...strictArgs], { encoding: 'utf8' });
    expect(strict.status).toBe(1);
    expect(strict.stderr).toContain(`${path.join(eyepacs, 'trainLabels.csv')} row 7: cannot read the image`);
    const badFormat = spawnSync(process.execPath, [bin, 'run', '--data', eyepacs, '--format', 'dicom'], { encoding: 'utf8' });
    expect(badFormat.status).toBe(2);
    expect(badFormat.stderr).toContain('Expected `--format` to be one of "eyepacs", "chexpert", "medmnist", "folder", "fashion-mnist", "nih-chestxray14", "mimic-cxr", "rsna-pneumonia", "aptos2019", "messidor2", "idrid" but received "dicom"');
  }, 120000);
});

describe('memory-mapped datasets', () => {
  it('train as the same images held in memory would', async () => {
    const { createDataset, createModel, train } = await import('../../src');
    const { addon } = await import('../../src/runtime');
    const { Dataset } = await import('../../src/data/embedded');
    const n = 48, size = 16, plane = 3 * size * size;
    const bytes = Uint8Array.from({ length: n * plane }, (_, i) => (i * 37 + (i >> 7) * 11) % 256);
    const file = path.join(dir, 'mapped.u8');
    fs.writeFileSync(file, bytes);
    const targets = Float32Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 1 : 0));
    const mapped = new Dataset(addon().openDataset({ file, count: n, size, targets, task: 'binary', outputs: 1 }));
    const mean = [0.485, 0.456, 0.406], std = [0.229, 0.224, 0.225];
    const floats = Float32Array.from(bytes, (v, i) => (v / 255 - mean[Math.floor(i / (size * size)) % 3]) / std[Math.floor(i / (size * size)) % 3]);
    const held = createDataset({ images: { data: floats, shape: [n, 3, size, size] }, targets, task: 'binary' });
    const run = async (d: typeof held) => {
      const m = createModel('cbr-tiny', { seed: 2 });
      const r = await train(m, { train: d, val: d }, { steps: 4, batchSize: 8, optimizer: 'adam', schedule: { kind: 'constant', lr: 1e-3 }, seed: 1 });
      m.dispose();
      return r.losses;
    };
    const [a, b] = [await run(mapped), await run(held)];
    a.forEach((loss, i) => expect(loss).toBeCloseTo(b[i], 5));
    expect(() => addon().openDataset({ file, count: n + 1, size, targets: new Float32Array(n + 1), task: 'binary', outputs: 1 })).toThrow(`${file} holds ${n * plane} bytes, but ${n + 1} RGB images of 16x16 need ${(n + 1) * plane}`);
    [mapped, held].forEach((d) => d.dispose());
  });
});

describe('a real dataset: Debian\'s Fashion-MNIST', () => {
  it('reads the shipped idx files: 60,000 + 10,000 images, the known first labels, usable as a pretraining source', async () => {
    const { DEBIAN_FASHION_MNIST, resolveDataPath } = await import('../../src/data/files/formats');
    if (!fs.existsSync(DEBIAN_FASHION_MNIST))
      throw new Error(`${DEBIAN_FASHION_MNIST} is missing: these tests need Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist)`);
    expect(resolveDataPath('fashion-mnist', '--pretrain-data')).toBe(DEBIAN_FASHION_MNIST);
    const set = readFashionMnist(DEBIAN_FASHION_MNIST);
    expect([set.splits!.train.length, set.splits!.val.length]).toEqual([60000, 10000]);
    // Zalando's published first training labels: ankle boot, T-shirt, T-shirt, dress, T-shirt, pullover, sneaker, ...
    expect(Array.from(set.targets.subarray(0, 10))).toEqual([9, 0, 0, 3, 0, 2, 7, 2, 5, 5]);
    const data = await loadDataset({ path: DEBIAN_FASHION_MNIST }, { size: 32, seed: 0, trainSize: 500, valSize: 200, cacheDir: path.join(dir, 'fm-cache'), asTask: false });
    expect(data.train.info()).toMatchObject({ task: 'multiclass', outputs: 10, count: 500, channels: 3, height: 32 });
    // Stratified: 50 of each class.
    const counts = new Array(10).fill(0);
    data.train.targets().forEach((c) => counts[c]++);
    expect(counts).toEqual(new Array(10).fill(50));
    [data.train, data.val].forEach((d) => d.dispose());
  });
});

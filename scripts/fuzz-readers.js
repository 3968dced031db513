#!/usr/bin/env node
// Above 350 lines by design: each reader's seeds, mutations and verdicts sit in one file, so a failing input is replayed
// from this file alone (its reader, seed and iteration).
// A mutation fuzz campaign over the TypeScript readers (issue 16), through their public functions in dist/ (build it
// first: npx tsc -p tsconfig.json). Small valid seed files of each format are mutated (bit flips, byte inserts and
// deletions, truncation, interesting integers, header fields and JSON values changed, members re-zipped so their CRCs
// still hold) and fed to the reader. A coded TransfusionError is a good answer; anything else (an uncoded error, a
// TypeError or RangeError, a process over its memory bound) is a failure, and an input that runs past its deadline a
// hang. Each reader runs in a child process of its own, so its peak RSS is its own and a hang can be killed.
//
//   node scripts/fuzz-readers.js [--seconds 120] [--seed 1] [--reader npz] [--out fuzz-failures]
//
// Prints per reader: inputs tried, seconds, good refusals, accepted, failures, hangs, peak RSS; exits 1 on any
// failure or hang (the failing inputs are written under --out; an input is also reproducible from its reader, seed
// and iteration).
'use strict';
const { fork } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');

const DIST = path.resolve(__dirname, '../dist/src');
const READERS = ['npy', 'npz', 'idx', 'eyepacs', 'chexpert', 'results', 'study', 'dicom'];
// The DICOM reader's seeds: small real files of pydicom's test set (python3-pydicom), one per pixel encoding the reader
// decodes (native little and big endian, RLE, JPEG baseline, JPEG 2000, a deflated data set). Absent: not fuzzed.
const PYDICOM_FILES = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
const DICOM_SEEDS = ['SC_rgb_small_odd.dcm', 'SC_rgb_rle.dcm', 'SC_rgb_small_odd_jpeg.dcm', 'JPEG2000.dcm', 'image_dfl.dcm', 'rtdose_1frame.dcm', 'ExplVR_BigEndNoMeta.dcm'];
const DEADLINE_MS = 10_000;  // per input
const RSS_BOUND = 2 * 2 ** 30;  // a reader of a few-KB seed has no business above this

function args() {
  const a = { seconds: 120, seed: 1, reader: undefined, out: 'fuzz-failures' };
  const v = process.argv.slice(2);
  for (let i = 0; i < v.length; i++) {
    const key = v[i].replace(/^--/, '');
    if (!(key in a)) throw new Error(`unknown option ${v[i]} (--seconds, --seed, --reader, --out)`);
    a[key] = key === 'seconds' || key === 'seed' ? Number(v[++i]) : v[++i];
  }
  return a;
}

// ---- seeds ----------------------------------------------------------------------------------------------------------

// A .npy file's bytes: the library's own encoder (the form its reader reads).
const npy = (shape, data, descr) => require(path.join(DIST, 'data/files/npy')).encodeNpy(shape, data, descr);

/** A zip archive of members { name, data } (deflated or stored), with true sizes and CRCs. */
function zip(members, deflate) {
  const locals = [], central = [];
  let offset = 0;
  for (const { name: n, data } of members) {
    const body = deflate ? zlib.deflateRawSync(data) : data, name = Buffer.from(n), crc = zlib.crc32(data);
    const local = Buffer.alloc(30), entry = Buffer.alloc(46);
    local.writeUInt32LE(0x04034b50, 0), local.writeUInt16LE(deflate ? 8 : 0, 8), local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18), local.writeUInt32LE(data.length, 22), local.writeUInt16LE(name.length, 26);
    entry.writeUInt32LE(0x02014b50, 0), entry.writeUInt16LE(deflate ? 8 : 0, 10), entry.writeUInt32LE(crc, 16);
    entry.writeUInt32LE(body.length, 20), entry.writeUInt32LE(data.length, 24), entry.writeUInt16LE(name.length, 28), entry.writeUInt32LE(offset, 42);
    locals.push(local, name, body), central.push(entry, name);
    offset += 30 + name.length + body.length;
  }
  const cd = Buffer.concat(central), end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0), end.writeUInt16LE(members.length, 8), end.writeUInt16LE(members.length, 10);
  end.writeUInt32LE(cd.length, 12), end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

function idx(dims, data) {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head[2] = 0x08, head[3] = dims.length;
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, data]);
}

/** Fashion-MNIST's first images from Debian's dataset-fashion-mnist when installed, else made up. */
function fashionSeed(n) {
  const real = '/usr/share/datasets/fashion-mnist';
  try {
    const images = zlib.gunzipSync(fs.readFileSync(path.join(real, 't10k-images-idx3-ubyte.gz')));
    const labels = zlib.gunzipSync(fs.readFileSync(path.join(real, 't10k-labels-idx1-ubyte.gz')));
    return { images: idx([n, 28, 28], images.subarray(16, 16 + n * 784)), labels: idx([n], labels.subarray(8, 8 + n)), real: true };
  } catch {
    return { images: idx([n, 28, 28], Buffer.from(Array.from({ length: n * 784 }, (_, i) => (i * 7) % 256))), labels: idx([n], Buffer.from(Array.from({ length: n }, (_, i) => i % 10))), real: false };
  }
}

function medmnistMembers() {
  const u8 = (n) => Uint8Array.from({ length: n }, (_, i) => (i * 31) % 256);
  return [
    { name: 'train_images.npy', data: npy([6, 8, 8], u8(6 * 64), '|u1') },
    { name: 'train_labels.npy', data: npy([6, 1], BigInt64Array.from([0n, 1n, 2n, 3n, 4n, 1n]), '<i8') },
    { name: 'val_images.npy', data: npy([3, 8, 8, 3], u8(3 * 192), '|u1') },
    { name: 'val_labels.npy', data: npy([3, 1], BigInt64Array.from([0n, 2n, 4n]), '<i8') },
  ];
}

function resultsSeed() {
  const { experimentSpec } = require(path.join(DIST, 'experiments/catalog'));
  const { RESULTS_SCHEMA } = require(path.join(DIST, 'experiments/results'));
  const spec = experimentSpec('table1', 'quick');
  spec.models = ['cbr-small'];
  const run = (init, seed) => ({ model: 'cbr-small', init, seed, auc: 0.8 + seed / 100, stepsToThreshold: 20, steps: 40, finalLoss: 0.4, wallSeconds: 3, imagesPerSecond: 100,
    curve: [{ step: 20, auc: 0.7 }, { step: 40, auc: 0.8 }], imageSize: 224, ...(init === 'transfer' ? { load: { init, loaded: 10, fresh: ['fc.weight'], from: 'cbr-small' } } : {}) });
  return { schema: RESULTS_SCHEMA, spec, environment: { torch: '2.1', napi: 8, node: process.version, threads: 2, platform: 'linux-x64' },
    startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:01:00.000Z',
    models: [{ name: 'cbr-small', displayName: 'CBR-Small', params: { numel: 2114341, paper: 2108672 }, imageSize: 224 }],
    task: { labels: ['referable DR'], trainPositives: 10, trainSize: 40, valPositives: 5, valSize: 20 },
    pretraining: [{ model: 'cbr-small', source: 'natural', classes: 10, top1: 0.2, top5: 0.6, steps: 40, wallSeconds: 2, weights: '/tmp/cache/pretrained/cbr-small-0.pt', cached: false }],
    runs: [run('random', 0), run('random', 1), run('transfer', 0), run('transfer', 1)],
    representations: { analysis: 'filters', probe: { probeSize: 8, maxDatapoints: 100, seed: 0 }, records: [], fits: [], filters: [], skipped: [], figures: ['figures/filters-cbr-small.png'] } };
}

function seeds() {
  const chex = ['Path,Sex,Age,Frontal/Lateral,AP/PA,Atelectasis,Cardiomegaly,Consolidation,Edema,Pleural Effusion',
    'CheXpert-v1.0-small/train/patient00001/study1/view1_frontal.jpg,Female,68,Frontal,AP,1.0,,0.0,-1.0,',
    'CheXpert-v1.0-small/train/patient00002/study1/view1_frontal.jpg,Male,50,Frontal,PA,,1.0,,,1.0',
    'CheXpert-v1.0-small/train/patient00002/study1/view2_lateral.jpg,Male,50,Lateral,,,,,,',
    'CheXpert-v1.0-small/train/patient00003/study2/view1_frontal.jpg,Male,41,Frontal,AP,0.0,-1.0,1.0,,'].join('\n') + '\n';
  return {
    npy: [npy([5, 4], Float32Array.from({ length: 20 }, (_, i) => i / 3), '<f4'), npy([3, 2, 2], Float64Array.from({ length: 12 }, (_, i) => -i), '<f8'), npy([7], Uint8Array.from([1, 2, 3, 4, 5, 6, 7]), '|u1')],
    npz: [zip(medmnistMembers(), true), zip(medmnistMembers(), false)],
    idx: [fashionSeed(20)],
    eyepacs: [Buffer.from('image,level\n10_left,0\n10_right,2\n13_left,1\n13_right,4\n15_left,3\n15_right,0\n16_left,2\n16_right,2\n')],
    chexpert: [Buffer.from(chex)],
    results: [Buffer.from(JSON.stringify(resultsSeed(), null, 2))],
    dicom: DICOM_SEEDS.map((f) => path.join(PYDICOM_FILES, f)).filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f)),
    study: [Buffer.from(JSON.stringify({ experiment: 'table1', preset: 'quick', models: ['cbr-small'], seeds: [0, 1], train: { steps: 40, batchSize: 8, schedule: { kind: 'cosine', lr: 0.01 } }, task: { imageSize: 64, trainSize: 200 } }, null, 2))],
  };
}

// ---- mutations ------------------------------------------------------------------------------------------------------

function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INTS = [0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe, 65536];
const NUMBERS = ['-1', '-200', '0', '4294967296', '9007199254740993', '1e308', '2.5', 'NaN', '-0', '99999999999999999999999', '1e3'];
const TEXTS = ['../../../../etc/passwd', '/etc/passwd', '/dev/zero', '\u001b[2J\u001b]0;x\u0007', '\u0000', '', '"', ',', '\n', 'a'.repeat(5000)];
const VALUES = [null, true, -1, 0, 1e308, -1e308, 2.5, 4294967297, '', 'x', '../../../../etc/passwd', '/etc/passwd', [], {}, [1, 2, 3], { a: 1 }, Array.from({ length: 60000 }, () => 0)];

function mutateBytes(input, r) {
  const b = Buffer.from(input);
  const pick = (n) => Math.floor(r() * n);
  switch (pick(8)) {
    case 0: { const n = 1 + pick(8); for (let k = 0; k < n && b.length; k++) b[pick(b.length)] ^= 1 << pick(8); return b; }
    case 1: { if (b.length) b[pick(b.length)] = INTS[pick(5)] & 0xff; return b; }
    case 2: { if (b.length >= 4) { const at = pick(b.length - 3); r() < 0.5 ? b.writeUInt32LE(INTS[pick(INTS.length)] >>> 0, at) : b.writeUInt32BE(INTS[pick(INTS.length)] >>> 0, at); } return b; }
    case 3: { const at = pick(b.length + 1); return Buffer.concat([b.subarray(0, at), Buffer.from(Array.from({ length: 1 + pick(64) }, () => pick(256))), b.subarray(at)]); }
    case 4: { const at = pick(b.length + 1); return Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + pick(64)))]); }
    case 5: return b.subarray(0, pick(b.length + 1));
    case 6: { const at = pick(b.length + 1), len = pick(Math.min(4096, b.length - at) + 1); return Buffer.concat([b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at + len)]); }
    default: return mutateText(b, r);
  }
}

/** Text-level: a number replaced by a huge, negative or fractional one, or a field by a path or an escape. */
function mutateText(b, r) {
  const text = b.toString('latin1');
  const numbers = [...text.matchAll(/-?\d+(\.\d+)?/g)];
  if (numbers.length && r() < 0.6) {
    const m = numbers[Math.floor(r() * numbers.length)];
    return Buffer.from(text.slice(0, m.index) + NUMBERS[Math.floor(r() * NUMBERS.length)] + text.slice(m.index + m[0].length), 'latin1');
  }
  const fields = [...text.matchAll(/[A-Za-z0-9_./-]+/g)];
  if (!fields.length) return b;
  const m = fields[Math.floor(r() * fields.length)];
  return Buffer.from(text.slice(0, m.index) + TEXTS[Math.floor(r() * TEXTS.length)] + text.slice(m.index + m[0].length), 'utf8');
}

/** JSON-level: one value somewhere replaced, or one field deleted. */
function mutateJson(input, r) {
  let doc;
  try {
    doc = JSON.parse(input.toString('utf8'));
  } catch {
    return mutateBytes(input, r);
  }
  const paths = [];
  const walk = (v, at) => {
    paths.push(at);
    if (v && typeof v === 'object') for (const k of Object.keys(v)) walk(v[k], [...at, k]);
  };
  walk(doc, []);
  const at = paths[1 + Math.floor(r() * (paths.length - 1))] ?? [];
  const parent = at.slice(0, -1).reduce((o, k) => o[k], doc), key = at.at(-1);
  if (parent === undefined || key === undefined) return Buffer.from(JSON.stringify(VALUES[Math.floor(r() * VALUES.length)]));
  if (r() < 0.2 && !Array.isArray(parent)) delete parent[key];
  else parent[key] = structuredClone(VALUES[Math.floor(r() * VALUES.length)]);
  return Buffer.from(JSON.stringify(doc));
}

/** An input for a reader: its seed mutated once to a few times, at the layer the format has (re-zipped, re-gzipped). */
function makeInput(reader, seedFiles, r) {
  const seed = seedFiles[Math.floor(r() * seedFiles.length)];
  const times = 1 + Math.floor(r() * 3);
  const repeat = (b, f) => { for (let k = 0; k < times; k++) b = f(b, r); return b; };
  if (reader === 'npz' && r() < 0.7) {
    const members = medmnistMembers();
    const m = members[Math.floor(r() * members.length)];
    m.data = repeat(m.data, mutateBytes);
    return zip(members, r() < 0.5);
  }
  if (reader === 'idx') {
    const which = r() < 0.8 ? 'images' : 'labels';
    const files = { images: seed.images, labels: seed.labels };
    const raw = r() < 0.7;
    files[which] = raw ? zlib.gzipSync(repeat(files[which], mutateBytes)) : repeat(zlib.gzipSync(files[which]), mutateBytes);
    files[which === 'images' ? 'labels' : 'images'] = zlib.gzipSync(files[which === 'images' ? 'labels' : 'images']);
    return files;
  }
  if ((reader === 'results' || reader === 'study') && r() < 0.7) return repeat(seed, mutateJson);
  return repeat(seed, mutateBytes);
}

// ---- the child: one reader, its inputs, its verdicts ----------------------------------------------------------------

async function child(reader, seed, seconds) {
  const npyMod = require(path.join(DIST, 'data/files/npy'));
  // The readers, by kind (data/files/formats.js is the table over them).
  const { readMedmnist } = require(path.join(DIST, 'data/files/medmnist'));
  const { readFashionMnist } = require(path.join(DIST, 'data/files/folder-datasets'));
  const { readEyepacs } = require(path.join(DIST, 'data/files/retina-datasets'));
  const { readChexpert } = require(path.join(DIST, 'data/files/chest-datasets'));
  const load = require(path.join(DIST, 'data/files/load'));
  const results = require(path.join(DIST, 'experiments/results'));
  const markdown = require(path.join(DIST, 'report/markdown'));
  const figures = require(path.join(DIST, 'report/figures'));
  const config = require(path.join(DIST, 'experiments/config'));
  const dicom = require(path.join(DIST, 'data/files/dicom-decode'));
  const errors = require(path.join(DIST, 'errors'));
  const ours = new Set([...errors.NATIVE_ERROR_CODES, ...errors.TS_ERROR_CODES]);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `fuzz-${reader}-`));
  const all = seeds()[reader];
  const sample = (set) => {
    if (!set.inputs.length) return;
    const split = load.splitByGroup(set, 0.2, 1);
    load.stratifiedSample(set, split.train, Math.max(1, Math.floor(split.train.length / 2)), 1);
  };
  const feed = {
    npy: (b) => npyMod.parseNpy(b, 'fuzz.npy'),
    npz: (b) => { fs.writeFileSync(path.join(work, 'x.npz'), b); readMedmnist(path.join(work, 'x.npz')); },
    idx: (f) => {
      fs.writeFileSync(path.join(work, 'train-images-idx3-ubyte.gz'), f.images), fs.writeFileSync(path.join(work, 'train-labels-idx1-ubyte.gz'), f.labels);
      fs.writeFileSync(path.join(work, 't10k-images-idx3-ubyte.gz'), zlib.gzipSync(all[0].images)), fs.writeFileSync(path.join(work, 't10k-labels-idx1-ubyte.gz'), zlib.gzipSync(all[0].labels));
      readFashionMnist(work);
    },
    eyepacs: (b) => { fs.writeFileSync(path.join(work, 'trainLabels.csv'), b); sample(readEyepacs(work)); },
    chexpert: (b) => { fs.writeFileSync(path.join(work, 'train.csv'), b); sample(readChexpert(path.join(work, 'train.csv'))); },
    results: (b) => {
      fs.writeFileSync(path.join(work, 'results.json'), b);
      const r = results.readResults(work);
      markdown.renderReport(r);
      figures.studyFigures(r);
      results.checkPretrainedPaths(r, work, '/tmp/cache');  // where the seed's pretraining record points
    },
    study: (b) => { fs.writeFileSync(path.join(work, 'study.json'), b); config.loadStudyConfig(path.join(work, 'study.json')); },
    dicom: async (b) => { fs.writeFileSync(path.join(work, 'x.dcm'), b); await dicom.decodeDicom(path.join(work, 'x.dcm')); },
  }[reader];
  if (!all.length) {
    fs.rmSync(work, { recursive: true, force: true });
    process.send({ t: 'done', tally: { tried: 0, good: 0, accepted: 0, failures: [], skipped: 'no seed files' }, maxRss: 0 });
    return;
  }
  const r = rng(seed);
  const stop = Date.now() + seconds * 1000;
  const tally = { tried: 0, good: 0, accepted: 0, failures: [] };
  let yielded = Date.now();
  for (let i = 0; Date.now() < stop; i++) {
    if (Date.now() - yielded > 50) {
      // Let the IPC channel drain: the parent's deadline reads these messages.
      await new Promise(setImmediate);
      yielded = Date.now();
    }
    const input = makeInput(reader, all, r);
    process.send({ t: 'begin', i });
    try {
      await feed(input);
      tally.accepted++;
    } catch (err) {
      // Good: one of the library's own codes (a Node code such as ERR_BUFFER_TOO_LARGE or ERR_OUT_OF_RANGE is not).
      if (err instanceof Error && ours.has(err.code)) tally.good++;
      else if (tally.failures.length < 50) tally.failures.push({ i, error: `${err && err.name}: ${err && err.message}`.slice(0, 400), code: err && err.code, stack: String(err && err.stack).split('\n').slice(1, 4).join(' | '), input: Buffer.isBuffer(input) ? input.toString('base64') : { images: input.images.toString('base64'), labels: input.labels.toString('base64') } });
      else tally.failures.push({ i });
    }
    tally.tried++;
    if (process.memoryUsage().rss > RSS_BOUND) {
      tally.failures.push({ i, error: `rss ${process.memoryUsage().rss} above ${RSS_BOUND}` });
      break;
    }
  }
  fs.rmSync(work, { recursive: true, force: true });
  process.send({ t: 'done', tally, maxRss: process.resourceUsage().maxRSS * 1024 });
}

// ---- the parent: one child per reader, deadlines, the table ---------------------------------------------------------

function runReader(reader, seed, seconds) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const c = fork(__filename, ['--child', reader, String(seed), String(seconds)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let current = -1, since = Date.now(), result;
    const hangs = [];
    const watch = setInterval(() => {
      if (Date.now() - since > DEADLINE_MS) {
        hangs.push(current);
        c.kill('SIGKILL');
      }
    }, 250);
    c.on('message', (m) => {
      if (m.t === 'begin') (current = m.i), (since = Date.now());
      else result = m;
    });
    c.on('exit', (code, signal) => {
      clearInterval(watch);
      const tally = result?.tally ?? { tried: current + 1, good: 0, accepted: 0, failures: [] };
      if (!result && !hangs.length) tally.failures.push({ i: current, error: `the child died (${signal ?? code})` });
      resolve({ reader, seconds: (Date.now() - t0) / 1000, ...tally, hangs, maxRss: result?.maxRss });
    });
  });
}

async function main() {
  const o = args();
  const readers = o.reader ? o.reader.split(',') : READERS;
  for (const r of readers) if (!READERS.includes(r)) throw new Error(`unknown reader ${r} (${READERS.join(', ')})`);
  if (!fs.existsSync(path.join(DIST, 'data/files/npy.js'))) throw new Error(`${DIST} is not built: npx tsc -p tsconfig.json`);
  const per = o.seconds / readers.length;
  const rows = [];
  for (const reader of readers) rows.push(await runReader(reader, o.seed, per));
  const mb = (b) => (b ? `${(b / 2 ** 20).toFixed(0)} MB` : '-');
  console.log('reader     inputs  seconds  refused(coded)  accepted  failures  hangs  peak RSS');
  for (const x of rows)
    if (x.skipped) console.log(`${x.reader.padEnd(10)} skipped: ${x.skipped}`);
    else console.log(`${x.reader.padEnd(10)} ${String(x.tried).padStart(6)}  ${x.seconds.toFixed(1).padStart(7)}  ${String(x.good).padStart(14)}  ${String(x.accepted).padStart(8)}  ${String(x.failures.length).padStart(8)}  ${String(x.hangs.length).padStart(5)}  ${mb(x.maxRss).padStart(8)}`);
  const bad = rows.filter((x) => x.failures.length || x.hangs.length);
  if (bad.length) {
    fs.mkdirSync(o.out, { recursive: true });
    for (const x of bad) {
      const distinct = new Map();
      for (const f of x.failures) if (f.error && !distinct.has(f.error.replace(/\d+/g, 'N'))) distinct.set(f.error.replace(/\d+/g, 'N'), f);
      for (const f of distinct.values()) console.log(`FAIL ${x.reader} (seed ${o.seed}, input ${f.i}): ${f.error}${f.stack ? `\n     ${f.stack}` : ''}`);
      for (const i of x.hangs) console.log(`HANG ${x.reader} (seed ${o.seed}, input ${i}): past ${DEADLINE_MS / 1000} s`);
      fs.writeFileSync(path.join(o.out, `${x.reader}-seed${o.seed}.json`), JSON.stringify({ failures: x.failures, hangs: x.hangs }, null, 1));
    }
    console.log(`failing inputs (base64) in ${o.out}/`);
  }
  process.exitCode = bad.length ? 1 : 0;
}

if (require.main !== module) module.exports = { seeds, makeInput, rng };
else if (process.argv[2] === '--child') child(process.argv[3], Number(process.argv[4]), Number(process.argv[5]));
else main().catch((err) => {
  console.error(err.message);
  process.exitCode = 2;
});

// Issue 16, the TypeScript readers: every malformed, oversized, non-regular or escaping input is refused with a coded
// error naming the file (and its member, row or field), before anything large is allocated or inflated.
// One file past ~350 lines on purpose: it is the checklist for the readers, one describe per reader, and the
// crafted-file writers (npy, zip, idx) are shared by all of them.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

import { CHEXPERT_FINDINGS, type LabelledSet } from '../../src/data/files/formats';
import { readChexpert } from '../../src/data/files/chest-datasets';
import { readFashionMnist, readFolder } from '../../src/data/files/folder-datasets';
import { readMedmnist } from '../../src/data/files/medmnist';
import { readEyepacs } from '../../src/data/files/retina-datasets';
import { decodeToFile } from '../../src/data/files/images';
import { stratifiedSample } from '../../src/data/files/load';
import { encodeNpy, parseNpy, parseNpz } from '../../src/data/files/npy';
import { checkPretrainedPaths, readResults } from '../../src/experiments/results';
import { renderReport } from '../../src/report/markdown';
import { writeReport } from '../../src/report/write';
import { ccaCommand } from '../../src/cli/commands/cca';
import { FIXTURES, table1, layers } from '../helpers/results';
import { tempDir } from '../helpers/tmp';

const dir = tempDir('hardening-readers');

/** An .npy file: a version 1 header with `shape` text as given, then `data`. */
function npy(shape: string, data: Uint8Array, descr = '<f4'): Buffer {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const head = Buffer.alloc(10);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(head);
  head.writeUInt16LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), data]);
}

interface Member { name: string; data: Uint8Array; deflate?: boolean; declared?: number; crc?: number }

/** A zip archive (as numpy's savez writes one), with sizes and CRCs that a test may falsify. */
function zip(members: Member[]): Buffer {
  const locals: Buffer[] = [], central: Buffer[] = [];
  let offset = 0;
  for (const m of members) {
    const body = m.deflate ? zlib.deflateRawSync(m.data) : Buffer.from(m.data);
    const name = Buffer.from(m.name);
    const crc = m.crc ?? zlib.crc32(m.data);
    const size = m.declared ?? m.data.length;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(m.deflate ? 8 : 0, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    const entry = Buffer.alloc(46);
    entry.writeUInt32LE(0x02014b50, 0);
    entry.writeUInt16LE(m.deflate ? 8 : 0, 10);
    entry.writeUInt32LE(crc, 16);
    entry.writeUInt32LE(body.length, 20);
    entry.writeUInt32LE(size, 24);
    entry.writeUInt16LE(name.length, 28);
    entry.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    central.push(entry, name);
    offset += 30 + name.length + body.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(members.length, 8);
  end.writeUInt16LE(members.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

const f32 = (n: number) => new Uint8Array(new Float32Array(n).fill(1).buffer);

/** Runs `f` and returns the TransfusionError it throws, failing the test if it throws anything else or nothing. */
function refusal(f: () => unknown): { code: string; message: string } {
  try {
    f();
  } catch (err) {
    expect((err as { code?: string }).code).toMatch(/^ERR_/);
    return err as { code: string; message: string };
  }
  throw new Error('expected a refusal');
}

describe('.npy', () => {
  it('reads back what encodeNpy writes (the encoder bench study and the fuzz seeds use)', () => {
    const f32 = Float32Array.from([1.5, -2, 3.25, 0, 7, 8]);
    const a = parseNpy(encodeNpy([2, 3], f32, '<f4'), 'a.npy');
    expect(a.shape).toEqual([2, 3]);
    expect(Array.from(a.data as Float32Array)).toEqual(Array.from(f32));
    const b = parseNpy(encodeNpy([4], Uint8Array.from([1, 2, 3, 250]), '|u1'), 'b.npy');
    expect(b.shape).toEqual([4]);
    expect(Array.from(b.data as Uint8Array)).toEqual([1, 2, 3, 250]);
  });

  it('refuses a negative dimension (it was read as its absolute value) and names the file', () => {
    const e = refusal(() => parseNpy(npy('-200, 8', f32(1600)), 'acts.npy'));
    expect(e.code).toBe('ERR_BAD_NPY');
    expect(e.message).toMatch(/^acts\.npy: shape \(-200, 8\) has a dimension "-200" that is not a non-negative integer/);
  });

  it('refuses a non-integer dimension and an unparsable one', () => {
    expect(refusal(() => parseNpy(npy('2.5, 8', f32(20)), 'a.npy')).message).toContain('"2.5"');
    expect(refusal(() => parseNpy(npy('1e3,', f32(1000)), 'a.npy')).message).toContain('"1e3"');
  });

  it('refuses data that is not exactly the size its shape declares: truncated, or with bytes after it', () => {
    expect(refusal(() => parseNpy(npy('4, 2', f32(7)), 'a.npy')).message).toBe('a.npy: holds 28 data bytes but its shape needs 32 (truncated?) (shape [4,2] of <f4)');
    expect(refusal(() => parseNpy(npy('4, 2', f32(9)), 'a.npy')).message).toBe('a.npy: holds 36 data bytes but its shape needs 32 (shape [4,2] of <f4)');
    expect(parseNpy(npy('4, 2', f32(8)), 'a.npy').shape).toEqual([4, 2]);
    expect(parseNpy(npy('3,', f32(3)), 'a.npy').shape).toEqual([3]);
  });

  it('refuses a shape whose size overflows or is above the limit before allocating it', () => {
    // 2^62 x 2^62 x 4 bytes: a Number product would lose it; the BigInt one does not.
    const e = refusal(() => parseNpy(npy('4611686018427387904, 4611686018427387904', f32(1)), 'huge.npy'));
    expect(e.message).toMatch(/^huge\.npy: shape \[4611686018427387904,4611686018427387904\] of <f4 needs \d+ bytes, above the \d+ this reader accepts/);
    expect(refusal(() => parseNpy(npy('1000, 1000', f32(1)), 'a.npy', { maxBytes: 1 << 20 })).message).toContain('needs 4000000 bytes, above the 1048576');
  });

  it('refuses a header longer than the file and names it', () => {
    const whole = npy('4, 2', f32(8));
    expect(refusal(() => parseNpy(whole.subarray(0, 40), 'cut.npy')).message).toMatch(/^cut\.npy: truncated inside its header/);
  });
});

describe('.npz (zip of .npy)', () => {
  const array = npy('64, 64', f32(64 * 64));

  it('reads stored and deflated members, checking their CRCs', () => {
    const arrays = parseNpz(zip([{ name: 'x.npy', data: array }, { name: 'y.npy', data: array, deflate: true }]), 'ok.npz');
    expect([...arrays.keys()]).toEqual(['x', 'y']);
    expect(arrays.get('y')!.shape).toEqual([64, 64]);
    const e = refusal(() => parseNpz(zip([{ name: 'x.npy', data: array, deflate: true, crc: 1234 }]), 'crc.npz'));
    expect(e.message).toBe('crc.npz: member x.npy fails its CRC check (corrupt)');
  });

  it('refuses a member that declares more than the limit before inflating anything', () => {
    const e = refusal(() => parseNpz(zip([{ name: 'x.npy', data: array, deflate: true }]), 'big.npz', { maxBytes: 1000 }));
    expect(e.code).toBe('ERR_BAD_NPY');
    expect(e.message).toMatch(/^big\.npz: its members declare 16512 bytes in all, above the 1000/);
  });

  it('refuses a deflate stream that inflates past its declared size (a zip bomb), naming the member', () => {
    const bomb = npy('4096, 4096', new Uint8Array(4096 * 4096 * 4));  // 64 MB of zeros, 65 KB deflated
    const e = refusal(() => parseNpz(zip([{ name: 'train_images.npy', data: bomb, deflate: true, declared: 1 << 16 }]), 'bomb.npz'));
    // Caught from the .npy header before inflating, or by the bounded inflation: either way named.
    expect(e.message).toMatch(/^bomb\.npz \(train_images\.npy\): its header declares shape \[4096,4096\] of <f4 \(67108992 bytes with the header\) but the archive declares 65536 bytes/);
    // A header that agrees with the directory, then 1 MB more than either declares.
    const small = npy('5,', f32(5));
    const longer = Buffer.concat([small, new Uint8Array(1 << 20)]);
    expect(refusal(() => parseNpz(zip([{ name: 'z.npy', data: longer, deflate: true, declared: small.length }]), 'bomb.npz')).message).toBe(
      `bomb.npz: member z.npy inflates to more than the ${small.length} bytes its directory entry declares`,
    );
  });

  it('refuses a member declaring more than its deflated bytes can hold (1032x), before inflating anything', () => {
    // 300-odd deflated bytes declaring 1 GB: within the 4 GiB limit, but no deflate stream of that size holds it.
    const e = refusal(() => parseNpz(zip([{ name: 'x.npy', data: array, deflate: true, declared: 1 << 30 }]), 'lie.npz'));
    expect(e.code).toBe('ERR_BAD_NPY');
    expect(e.message).toMatch(/^lie\.npz: member x\.npy declares 1073741824 bytes, more than its \d+ deflated bytes can hold \(deflate inflates at most 1032x\)$/);
  });

  it('reads only the arrays asked for: a missing one is named before any member is inflated (issue 28)', () => {
    // A member whose deflate stream is garbage: inflating it would fail with another message.
    const junk = { name: 'bomb.npy', data: new Uint8Array([1, 2, 3]), deflate: false, declared: 3, crc: 0 };
    const e = refusal(() => parseNpz(zip([junk]), 'm.npz', {}, { required: ['train_images'] }));
    expect(e.code).toBe('ERR_BAD_DATA');
    expect(e.message).toBe('m.npz: no array "train_images" (has bomb)');
    // The arrays asked for are read; the junk beside them is never touched.
    const read = parseNpz(zip([junk, { name: 'train_images.npy', data: npy('5,', f32(5)) }]), 'm.npz', {}, { required: ['train_images'] });
    expect([...read.keys()]).toEqual(['train_images']);
  });

  it('names corrupt directory fields instead of a DataView RangeError', () => {
    const good = zip([{ name: 'x.npy', data: array }]);
    const moved = Buffer.from(good);
    moved.writeUInt32LE(0x7fffffff, moved.length - 22 + 16);  // central directory offset past the end
    expect(refusal(() => parseNpz(moved, 'bad.npz')).message).toMatch(/^bad\.npz: corrupt zip archive/);
    const local = Buffer.from(good);
    local.writeUInt32LE(good.length - 10, good.length - 22 - 46 - 5 + 42);  // the member's offset near the end
    expect(refusal(() => parseNpz(local, 'bad.npz')).message).toMatch(/^bad\.npz: corrupt zip archive/);
    expect(refusal(() => parseNpz(good.subarray(0, good.length - 30), 'cut.npz')).message).toMatch(/^cut\.npz: /);
  });

  it('readMedmnist names the archive and member of a corrupt array', () => {
    const file = path.join(dir, 'negative.npz');
    const labels = (name: string) => ({ name, data: npy('2, 1', new Uint8Array(2), '|u1') });
    const others = [labels('train_labels.npy'), { name: 'val_images.npy', data: npy('2, 28, 28', new Uint8Array(2 * 28 * 28), '|u1') }, labels('val_labels.npy')];
    fs.writeFileSync(file, zip([{ name: 'train_images.npy', data: npy('-2, 28, 28', new Uint8Array(2 * 28 * 28), '|u1') }, ...others]));
    const e = refusal(() => readMedmnist(file));
    expect(e.message).toContain(`${file} (train_images.npy): shape (-2, 28, 28) has a dimension "-2"`);
  });
});

describe('non-regular files', () => {
  const fifo = path.join(dir, 'fifo.npz');

  it('a loop of symbolic links in an image folder is ERR_BAD_DATA naming it, not a raw ELOOP (issue 28)', () => {
    const root = path.join(dir, 'looped');
    for (const c of ['a', 'b']) {
      fs.mkdirSync(path.join(root, c), { recursive: true });
      fs.writeFileSync(path.join(root, c, 'x.png'), '');
    }
    fs.symlinkSync('loop', path.join(root, 'loop'));
    const e = refusal(() => readFolder(root));
    expect(e.code).toBe('ERR_BAD_DATA');
    expect(e.message).toBe(`${path.join(root, 'loop')}: a loop of symbolic links (ELOOP)`);
  });

  beforeAll(() => execFileSync('mkfifo', [fifo]));

  it.each([
    ['/dev/zero', 'a device'],
    [fifo, 'a FIFO'],
    [dir, 'a directory'],
  ])('readMedmnist refuses %s (%s) without reading it', (file, kind) => {
    const e = refusal(() => readMedmnist(file));
    expect(e.code).toBe('ERR_BAD_DATA');
    expect(e.message).toBe(`${file} is ${kind}, not a regular file`);
  });

  it('an image that is /dev/zero or a FIFO is refused, naming the row and the file, without blocking', async () => {
    for (const [file, kind] of [['/dev/zero', 'a device'], [fifo, 'a FIFO']]) {
      const out = path.join(dir, 'decoded.u8');
      await expect(decodeToFile([{ file }], { size: 16 }, out, () => 'trainLabels.csv row 2')).rejects.toMatchObject({
        code: 'ERR_BAD_IMAGE',
        message: expect.stringContaining(`trainLabels.csv row 2: cannot read the image (${file} is ${kind}, not a regular file)`),
      });
    }
  });

  it('a corrupt image is named by its row and by its path', async () => {
    const file = path.join(dir, '7_left.jpeg');
    fs.writeFileSync(file, 'not a jpeg at all');
    await expect(decodeToFile([{ file }], { size: 16 }, path.join(dir, 'd.u8'), () => 'trainLabels.csv row 9')).rejects.toThrow(
      `trainLabels.csv row 9: cannot read the image (${file}: `,
    );
  });
});

describe('idx (Fashion-MNIST)', () => {
  const idx = (dims: number[], data: Uint8Array) => {
    const head = Buffer.alloc(4 + 4 * dims.length);
    head[2] = 0x08;
    head[3] = dims.length;
    dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
    return Buffer.concat([head, data]);
  };
  const write = (name: string, files: Record<string, Buffer>) => {
    const d = path.join(dir, name);
    fs.mkdirSync(d, { recursive: true });
    for (const [f, b] of Object.entries(files)) fs.writeFileSync(path.join(d, f), b);
    return d;
  };
  const labels = zlib.gzipSync(idx([2], new Uint8Array([1, 2])));

  it('refuses a gzip stream that inflates past the size its header declares, naming the file', () => {
    // The header says 2 images of 4x4; the stream holds 4 MB more.
    const images = zlib.gzipSync(idx([2, 4, 4], new Uint8Array(4 << 20)));
    const d = write('idx-bomb', { 'train-images-idx3-ubyte.gz': images, 'train-labels-idx1-ubyte.gz': labels });
    const e = refusal(() => readFashionMnist(d));
    expect(e.code).toBe('ERR_BAD_DATA');
    expect(e.message).toBe(`${path.join(d, 'train-images-idx3-ubyte.gz')}: inflates to more than the 48 bytes its header (shape [2,4,4]) declares`);
  });

  it('refuses a header declaring more than its gzipped bytes can hold (1032x), before inflating the stream', () => {
    // 100 images of 1000 x 1000 (100 MB, under the 1 GiB limit) declared by a gzip of a few hundred bytes.
    const images = zlib.gzipSync(idx([100, 1000, 1000], new Uint8Array(16)));
    const d = write('idx-lie', { 'train-images-idx3-ubyte.gz': images, 'train-labels-idx1-ubyte.gz': labels });
    const e = refusal(() => readFashionMnist(d));
    expect(e.code).toBe('ERR_BAD_DATA');
    expect(e.message).toBe(
      `${path.join(d, 'train-images-idx3-ubyte.gz')}: its header (shape [100,1000,1000]) declares 100000016 bytes, more than its ${images.length} gzipped bytes can hold (deflate inflates at most 1032x)`,
    );
  });

  it('refuses dimensions whose size is above the limit before inflating', () => {
    const images = zlib.gzipSync(idx([60000, 65536, 65536], new Uint8Array(16)));
    const d = write('idx-huge', { 'train-images-idx3-ubyte.gz': images, 'train-labels-idx1-ubyte.gz': labels });
    expect(refusal(() => readFashionMnist(d)).message).toMatch(/train-images-idx3-ubyte\.gz: shape \[60000,65536,65536\] needs \d+ bytes, above the/);
  });

  it('refuses a truncated file and one with the wrong number of dimensions', () => {
    const cut = write('idx-cut', { 'train-images-idx3-ubyte': idx([2, 4, 4], new Uint8Array(20)), 'train-labels-idx1-ubyte.gz': labels });
    expect(refusal(() => readFashionMnist(cut)).message).toBe(`${path.join(cut, 'train-images-idx3-ubyte')}: truncated (shape [2,4,4] needs 32 bytes of data)`);
    const flat = write('idx-flat', { 'train-images-idx3-ubyte': idx([32], new Uint8Array(32)), 'train-labels-idx1-ubyte.gz': labels });
    expect(refusal(() => readFashionMnist(flat)).message).toBe(`${flat}: train-images has shape [32]; expected (N, H, W)`);
  });
});

describe('CSV image paths stay inside the dataset folder', () => {
  it('EyePACS: "../" and absolute image names are refused, naming the CSV file and row', () => {
    const root = path.join(dir, 'eyepacs');
    fs.mkdirSync(root, { recursive: true });
    const csv = path.join(root, 'trainLabels.csv');
    fs.writeFileSync(csv, 'image,level\n1_left,0\n../../../../etc/passwd,2\n');
    const e = refusal(() => readEyepacs(root));
    expect(e.code).toBe('ERR_BAD_DATA');
    expect(e.message).toBe(`${csv} row 3: image: "../../../../etc/passwd.jpeg" points outside ${path.join(root, 'train')}`);
    fs.writeFileSync(csv, 'image,level\n/etc/passwd.jpeg,2\n');
    expect(refusal(() => readEyepacs(root)).message).toContain(`${csv} row 2: image: "/etc/passwd.jpeg" points outside`);
  });

  it('EyePACS: an image listed twice, and a grade not written as one digit, are refused naming the rows (issue 28)', () => {
    const root = path.join(dir, 'eyepacs-repeats');
    fs.mkdirSync(root, { recursive: true });
    const csv = path.join(root, 'trainLabels.csv');
    fs.writeFileSync(csv, 'image,level\n1_left,2\n1_right,0\n1_left,0\n');
    expect(refusal(() => readEyepacs(root)).message).toBe(`${csv} row 4: image ${path.join(root, 'train', '1_left.jpeg')} is listed again (first at ${csv} row 2); each image must appear once`);
    for (const grade of ['0x2', '1e0', '2.0', ' ', '-0']) {
      fs.writeFileSync(csv, `image,level\n1_left,${grade}\n`);
      expect(refusal(() => readEyepacs(root)).message).toBe(`${csv} row 2: level "${grade.trim()}" is not a grade 0-4`);  // the CSV reader trims
    }
    fs.writeFileSync(csv, 'image,level\n1_left, 3\n1_right,0\n');
    expect(readEyepacs(root).grades).toEqual([3, 0]);
  });

  it('CheXpert: a Path climbing out of the folder holding the CSV is refused, naming the CSV file and row', () => {
    const root = path.join(dir, 'CheXpert-v1.0-small');
    fs.mkdirSync(root, { recursive: true });
    const csv = path.join(root, 'train.csv');
    const cols = `Path,Frontal/Lateral,${CHEXPERT_FINDINGS.join(',')}`;
    fs.writeFileSync(csv, `${cols}\nCheXpert-v1.0-small/train/patient1/study1/view1_frontal.jpg,Frontal,1,0,,,\nCheXpert-v1.0-small/../../x.jpg,Frontal,1,0,,,\n`);
    const e = refusal(() => readChexpert(csv));
    expect(e.message).toBe(`${csv} row 3: Path: "../../x.jpg" points outside ${root}`);
    fs.writeFileSync(csv, `${cols}\nCheXpert-v1.0-small/train/patient1/study1/view1_frontal.jpg,Frontal,1,0,,,\n`);
    expect((readChexpert(csv).inputs[0] as { file: string }).file).toBe(path.join(root, 'train/patient1/study1/view1_frontal.jpg'));
  });

  it('a file name with terminal escape sequences is shown escaped', () => {
    const root = path.join(dir, 'esc\x1b[2J\x1b]0;owned\x07');
    fs.mkdirSync(root, { recursive: true });
    fs.writeFileSync(path.join(root, 'trainLabels.csv'), 'image,level\n1_left,9\n');
    const e = refusal(() => readEyepacs(root));
    expect(e.message).not.toMatch(/[\x00-\x1f]/);
    expect(e.message).toContain('esc\\x1b[2J\\x1b]0;owned\\x07');
  });
});

describe('pixels', () => {
  it('a JPEG whose header declares more pixels than its bytes can code is a bad image, not flat grey (issue 28)', async () => {
    const { default: sharp } = await import('sharp');
    const jpeg = await sharp(Buffer.alloc(16 * 16 * 3, 128), { raw: { width: 16, height: 16, channels: 3 } }).jpeg().toBuffer();
    const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
    jpeg.writeUInt16BE(16000, sof + 5);  // height
    jpeg.writeUInt16BE(16000, sof + 7);  // width
    const file = path.join(dir, 'liar.jpg');
    fs.writeFileSync(file, jpeg);
    await expect(decodeToFile([{ file }], { size: 16 }, path.join(dir, 'liar.u8'), () => 'trainLabels.csv row 7')).rejects.toMatchObject({
      code: 'ERR_BAD_IMAGE',
      message: expect.stringContaining(`a JPEG declaring 16000x16000 pixels in ${jpeg.length} bytes, fewer than its 8x8 blocks need`),
    });
    // The same file with its true size decodes.
    jpeg.writeUInt16BE(16, sof + 5);
    jpeg.writeUInt16BE(16, sof + 7);
    fs.writeFileSync(file, jpeg);
    await decodeToFile([{ file }], { size: 16 }, path.join(dir, 'true.u8'), () => 'row');
  });

  it('an RGBA PNG keeps its stored colour at any alpha, as PIL\'s convert(\'RGB\') does (issue 28: it was premultiplied)', async () => {
    const { default: sharp } = await import('sharp');
    const px = Buffer.alloc(16 * 16 * 4);
    for (let i = 0; i < 256; i++) px.set([200, 60, 20, i < 128 ? 0 : 10], i * 4);  // top half alpha 0, bottom alpha 10
    const file = path.join(dir, 'rgba.png'), out = path.join(dir, 'rgba.u8');
    await sharp(px, { raw: { width: 16, height: 16, channels: 4 } }).png().toFile(file);
    await decodeToFile([{ file }], { size: 16 }, out, () => 'rgba.png');
    const planes = fs.readFileSync(out);
    for (const p of [0, 255]) expect([planes[p], planes[256 + p], planes[512 + p]]).toEqual([200, 60, 20]);
  });
});

describe('the stratified sampler', () => {
  const binary = (targets: Float32Array): LabelledSet => ({ format: 'folder', task: 'binary', labels: ['x'], inputs: [], targets, groups: [], where: [] });

  it('selects exactly what the quadratic version selected (values recorded from it)', () => {
    const set = binary(Float32Array.from({ length: 40 }, (_, i) => (i % 5 === 0 || i % 7 === 0 ? 1 : 0)));
    const all = Array.from({ length: 40 }, (_, i) => i);
    expect(stratifiedSample(set, all, 10, 3)).toEqual([1, 3, 4, 6, 8, 12, 17, 20, 30, 35]);
    expect(stratifiedSample(set, all, 7, 11)).toEqual([2, 3, 8, 21, 24, 25, 31]);
    const three: LabelledSet = { ...set, task: 'multiclass', labels: ['a', 'b', 'c'], targets: Float32Array.from({ length: 60 }, (_, i) => (i * 7) % 3) };
    expect(stratifiedSample(three, Array.from({ length: 60 }, (_, i) => i), 11, 5)).toEqual([6, 13, 14, 16, 27, 36, 37, 41, 45, 46, 50]);
  });

  it('samples 200,000 rows (a full trainLabels.csv took 125 s) and keeps the strata', () => {
    const n = 200_000;
    const set = binary(Float32Array.from({ length: n }, (_, i) => (i % 4 === 0 ? 1 : 0)));
    const chosen = stratifiedSample(set, Array.from({ length: n }, (_, i) => i), 150_000, 1);
    expect(chosen.length).toBe(150_000);
    expect(chosen.filter((i) => i % 4 === 0).length).toBe(37_500);
  });
});

describe('results.json', () => {
  const runDir = (name: string, results: unknown) => {
    const d = path.join(dir, name);
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, 'results.json'), JSON.stringify(results));
    return d;
  };

  it.each(Object.keys(FIXTURES))('accepts the results a %s study writes', (experiment) => {
    expect(readResults(runDir(`ok-${experiment}`, FIXTURES[experiment]())).runs.length).toBeGreaterThan(0);
  });

  it('reads a results@1 file of version 0.1.0, its similarity records upgraded to camelCase', () => {
    const current = FIXTURES.similarity();
    const v1 = JSON.parse(JSON.stringify(current));
    v1.schema = 'transfusion-native/results@1';
    for (const r of v1.representations.records) {
      for (const [from, to] of [['mean_cca', 'meanCca'], ['svcca_mean', 'svccaMean'], ['linear_cka', 'linearCka']]) {
        r[from] = r[to];
        delete r[to];
      }
    }
    expect(readResults(runDir('v1', v1))).toEqual(current);
  });

  it.each([
    ['a run whose auc is a string', (r: any) => (r.runs[1].auc = 'high'), 'field runs[1].auc must be number,null'],
    ['runs that are not a list', (r: any) => (r.runs = {}), 'field runs must be array'],
    ['a curve point without its step', (r: any) => delete r.runs[0].curve[0].step, 'field runs[0].curve[0].step is missing'],
    ['a spec without train.steps', (r: any) => delete r.spec.train.steps, 'field spec.train.steps is missing'],
    ['a task that is null', (r: any) => (r.task = null), 'field task must be object'],
    // Found by scripts/fuzz-readers.js: accepted, then a TypeError in renderReport.
    ['no environment (fuzz)', (r: any) => delete r.environment, 'field environment is missing'],
    ['a train schedule without its learning rate (fuzz)', (r: any) => delete r.spec.train.schedule.lr, 'field spec.train.schedule.lr is missing'],
    // Found by CI's fuzz-readers run: a spec without pretrain.trainSize passed, then renderReport threw.
    ['a spec without pretrain.trainSize (fuzz)', (r: any) => delete r.spec.pretrain.trainSize, 'field spec.pretrain.trainSize is missing'],
    ['a snapshot outside the run directory', (r: any) => (r.runs[0].snapshots = { init: '../../x.safetensors', final: 's.safetensors' }), 'field runs[0].snapshots.init must be a path inside the run directory'],
  ])('refuses %s, naming the file and the field', (name, corrupt, said) => {
    const results = table1();
    corrupt(results);
    const d = runDir(`bad-${name.replace(/\W+/g, '-')}`, results);
    const e = refusal(() => readResults(d));
    expect(e.code).toBe('ERR_BAD_DATA');
    expect(e.message).toContain(`${path.join(d, 'results.json')} is not a results.json this library wrote: ${said}`);
  });

  // Every field of every fixture removed in turn: the file is refused with a coded error, or its report renders.
  it.each(Object.keys(FIXTURES))('never accepts a %s results.json that its report cannot render', (experiment) => {
    const leaves = (v: unknown, at: string[] = []): string[][] =>
      v !== null && typeof v === 'object' ? Object.entries(v as object).flatMap(([k, x]) => [[...at, k], ...leaves(x, [...at, k])]) : [];
    let refused = 0, rendered = 0;
    const all = leaves(FIXTURES[experiment]());
    const stride = Math.ceil(all.length / 400);  // long record lists: every stride-th field, the first of each kind kept
    for (const p of all.filter((q, i) => i % stride === 0 || !q.some((k) => /^\d+$/.test(k) && k !== '0'))) {
      const results: any = FIXTURES[experiment]();
      const parent = p.slice(0, -1).reduce((o, k) => o[k], results);
      if (Array.isArray(parent)) parent.splice(Number(p[p.length - 1]), 1);
      else delete parent[p[p.length - 1]];
      const d = runDir(`drop-${experiment}`, results);
      let read;
      try {
        read = readResults(d);
      } catch (e) {
        expect((e as { code?: string }).code).toBe('ERR_BAD_DATA');
        refused++;
        continue;
      }
      expect(() => renderReport(read)).not.toThrow();
      rendered++;
    }
    expect(refused).toBeGreaterThan(0);
    expect(rendered).toBeGreaterThan(0);
  });

  it('refuses JSON that is not an object, and a results.json that is a FIFO', () => {
    expect(refusal(() => readResults(runDir('null', null))).message).toContain('has schema undefined');
    const d = path.join(dir, 'fifo-run');
    fs.mkdirSync(d);
    execFileSync('mkfifo', [path.join(d, 'results.json')]);
    expect(refusal(() => readResults(d)).message).toBe(`${path.join(d, 'results.json')} is a FIFO, not a regular file`);
  });

  it('report: a figure path that leaves the run directory is refused, not inlined', async () => {
    const results = layers();
    results.representations = { ...results.representations!, analysis: 'filters', figures: ['../../../../etc/passwd'] };
    expect(refusal(() => readResults(runDir('report-escape', results))).message).toContain('field representations.figures[0] must be a path inside the run directory');
    // writeReport given such results directly (the library's own caller), or a link out of the directory: refused too.
    const d = path.join(dir, 'report-link');
    fs.mkdirSync(path.join(d, 'figures'), { recursive: true });
    fs.symlinkSync('/etc/passwd', path.join(d, 'figures', 'filters-cbr-small.png'));
    results.representations.figures = ['figures/filters-cbr-small.png'];
    await expect(writeReport(d, results)).rejects.toMatchObject({ code: 'ERR_BAD_DATA', message: expect.stringContaining('is a link to /etc/passwd, outside') });
    expect(fs.existsSync(path.join(d, 'report.html'))).toBe(false);
  });

  it('resume: pretrained weights outside the cache and the run directory are refused, naming the record', () => {
    const results = table1();
    const cache = path.join(dir, 'cache');
    results.pretraining[0].weights = path.join(cache, 'pretrained', 'cbr-small-0123.pt');
    results.spec.weights = { 'cbr-tiny': '/data/tiny.pt' };
    results.pretraining[1] = { ...results.pretraining[1], model: 'cbr-tiny', source: 'file', weights: '/data/tiny.pt' };
    expect(checkPretrainedPaths(results, dir, cache)).toHaveLength(2);
    results.pretraining[1].weights = '/etc/passwd';
    const e = refusal(() => checkPretrainedPaths(results, dir, cache));
    expect(e.code).toBe('ERR_BAD_DATA');
    expect(e.message).toContain(`${path.join(dir, 'results.json')} pretraining[1].weights: "/etc/passwd" is neither the spec's weights for cbr-tiny nor inside the cache`);
    expect(e.message).not.toContain('resume it with');
    // Made with another --cache-dir and resumed without it: the refusal names the cache the run used.
    results.pretraining[0].weights = '/srv/tn-cache/pretrained/cbr-small-0123.pt';
    const other = refusal(() => checkPretrainedPaths(results, dir, cache));
    expect(other.message).toContain('pretraining[0].weights: "/srv/tn-cache/pretrained/cbr-small-0123.pt" is neither');
    expect(other.message).toContain('if the run was made with --cache-dir /srv/tn-cache, resume it with that');
  });
});

describe('cca', () => {
  it('names the files, not "input 0", when their datapoints differ', async () => {
    const a = path.join(dir, 'a.npy'), b = path.join(dir, 'b.npy');
    fs.writeFileSync(a, npy('10, 2', f32(20)));
    fs.writeFileSync(b, npy('12, 2', f32(24)));
    const failures: unknown[] = [];
    const command = ccaCommand({ argv: [], fail: (err) => failures.push(err), setExitCode: () => {} });
    await (command.handler as (args: object) => Promise<void>)({ a, b, layout: 'datapoints-first', seed: 0, json: true, _: [], $0: '' });
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ code: 'ERR_INVALID_ARG', message: `${a} has 10 datapoints but ${b} has 12 (layout datapoints-first): the two must hold the same datapoints` });
  });
});

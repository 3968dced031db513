// The DICOM reader against pydicom (with numpy and GDCM) on the DICOM files Debian's python3-pydicom ships, files no
// one here wrote: every file pydicom decodes is compared pixel by pixel (exactly for lossless syntaxes; lossy JPEG
// within a tolerance, as libjpeg-turbo here and GDCM's libjpeg there may round an IDCT or colour conversion
// differently); the truncated and malformed ones must give named errors with their paths.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { decodeDicom, type DicomImage } from '../../src/data/files/dicom-decode';
import { isDicomFile, readDicom } from '../../src/data/files/dicom';
import { parseNpy } from '../../src/data/files/npy';
import { PYTHON } from '../helpers/python';
import { tempDir } from '../helpers/tmp';

const FILES = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
const probe = spawnSync(PYTHON, ['-c', 'import pydicom, numpy, gdcm'], { encoding: 'utf8' });
const missing = !fs.existsSync(FILES) || probe.status !== 0;
if (missing)
  console.warn(`Skipping the DICOM comparisons: pydicom's test files or GDCM are missing (${probe.stderr?.trim() || FILES}); apt-get install python3-pydicom python3-gdcm`);
const describeWithPydicom = missing ? describe.skip : describe;

// The lists name every .dcm file of the pydicom releases Debian 12 (2.3), 13 (2.4) and sid (3.0) ship; each test takes
// the files this machine's release has (a file only another release ships is not a failure here).
const shipped = <T extends { file: string }>(list: T[]): T[] => list.filter((x) => missing || fs.existsSync(path.join(FILES, x.file)));

/** Compared exactly: lossless syntaxes (YBR converted with pydicom's float32 equations: within 1). `frame` of multi-frame files. */
const LOSSLESS: { file: string; frame?: number; tolerance?: number }[] = shipped([
  { file: 'CT_small.dcm' }, // explicit VR little endian, signed 16-bit, rescale intercept
  { file: 'MR_small.dcm' },
  { file: 'MR_small_implicit.dcm' },
  { file: 'MR_small_bigendian.dcm' },
  { file: 'MR_small_expb.dcm' },
  { file: 'MR_small_padded.dcm' },
  { file: 'MR_small_RLE.dcm' },
  { file: 'MR_small_jpeg_ls_lossless.dcm' },
  { file: 'MR_small_jp2klossless.dcm' },
  { file: 'image_dfl.dcm' }, // deflated explicit VR little endian
  { file: 'ExplVR_BigEnd.dcm' }, // RGB in big endian
  { file: 'SC_rgb_small_odd.dcm' },
  { file: 'SC_rgb_jpeg_dcmd.dcm' }, // RGB, implicit VR, native
  { file: 'SC_ybr_full_422_uncompressed.dcm', tolerance: 1 },
  { file: 'SC_rgb_rle.dcm' },
  { file: 'SC_rgb_rle_2frame.dcm', frame: 1 },
  { file: 'SC_rgb_rle_16bit.dcm' },
  { file: 'SC_rgb_rle_16bit_2frame.dcm', frame: 1 },
  { file: 'SC_rgb_rle_32bit.dcm' },
  { file: 'SC_rgb_rle_32bit_2frame.dcm', frame: 1 },
  { file: 'SC_rgb_jpeg_gdcm.dcm' }, // JPEG lossless SV1, RGB
  { file: 'liver_1frame.dcm' }, // 1 bit allocated
  { file: 'liver_expb_1frame.dcm' },
  { file: 'rtdose.dcm', frame: 7 }, // 32-bit, 15 frames
  { file: 'rtdose_1frame.dcm' },
  { file: 'rtdose_expb_1frame.dcm' }, // 32-bit, explicit VR big endian
  { file: 'rtdose_expb.dcm', frame: 14 },
  { file: 'rtdose_rle.dcm', frame: 3 },
  { file: 'rtdose_rle_1frame.dcm' },
  { file: 'JPEG2000.dcm' },
  { file: '693_J2KI.dcm' },
  { file: 'J2K_pixelrep_mismatch.dcm' },
  { file: 'GDCMJ2K_TextGBR.dcm' }, // JPEG 2000 with YBR_RCT
  { file: 'SC_rgb_gdcm_KY.dcm' },
  { file: 'SC_rgb_small_odd_big_endian.dcm' }, // RGB, explicit VR big endian (pydicom 2.4's test files: Debian 13)
  // pydicom 3.0's test files (Debian sid)
  { file: 'JPEGLSNearLossless_08.dcm' },
  { file: 'JPEGLSNearLossless_16.dcm' },
  { file: 'SC_rgb_jls_lossy_line.dcm' },
  { file: 'SC_rgb_jls_lossy_sample.dcm' },
  { file: 'examples_jpeg2k.dcm' },
  { file: 'examples_overlay.dcm' },
  { file: 'examples_palette.dcm' },
  { file: 'examples_rgb_color.dcm' },
  { file: 'examples_ybr_color.dcm' },
]);

/** JPEG baseline (lossy): within `max` of pydicom+GDCM per sample (decoders may round an IDCT differently), 1 on average. */
const LOSSY: { file: string; max: number }[] = shipped([
  'SC_rgb_jpeg_dcmtk.dcm', 'SC_rgb_dcmtk_+eb+cr.dcm', 'SC_rgb_dcmtk_+eb+cy+n1.dcm', 'SC_rgb_dcmtk_+eb+cy+n2.dcm',
  'SC_rgb_dcmtk_+eb+cy+np.dcm', 'SC_rgb_dcmtk_+eb+cy+s2.dcm', 'SC_rgb_dcmtk_+eb+cy+s4.dcm', 'SC_rgb_jpeg_app14_dcmd.dcm',
  'SC_jpeg_no_color_transform.dcm', 'SC_jpeg_no_color_transform_2.dcm', 'SC_rgb_small_odd_jpeg.dcm',
  // Says RGB but its JPEG holds YCbCr (GDCM warns): read as DICOM says, RGB as stored, as GDCM reads it.
  'SC_rgb_jpeg_lossy_gdcm.dcm',
].map((file) => ({ file, max: 2 })));  // 0 with Debian 12's GDCM 3.0.21: both decoders do libjpeg's integer IDCT

/** Read here, but pydicom fails on them (so no reference): the image as the header describes it. */
const UNREFERENCED: { file: string; width: number; height: number; why: string }[] = [
  // An element with an invalid VR ahead of the pixels: pydicom 2.3 raises a TypeError formatting its own warning.
  { file: 'badVR.dcm', width: 10, height: 10, why: 'pydicom raises formatting its bad-VR warning' },
];

/** Named errors: each with the path and what is wrong. */
const ERRORS: { file: string; message: RegExp }[] = shipped([
  { file: 'MR_truncated.dcm', message: /truncated or malformed/ },
  { file: 'rtplan_truncated.dcm', message: /truncated or malformed/ },
  { file: 'SC_rgb_jpeg.dcm', message: /says Explicit VR but its data set is encoded Implicit VR/ },
  { file: 'no_meta.dcm', message: /not a DICOM Part 10 file/ },
  { file: 'ExplVR_BigEndNoMeta.dcm', message: /not a DICOM Part 10 file/ },
  { file: 'ExplVR_LitEndNoMeta.dcm', message: /not a DICOM Part 10 file/ },
  { file: 'meta_missing_tsyntax.dcm', message: /missing required meta header attribute 0002,0010/ },
  { file: 'reportsi.dcm', message: /holds no image \(no Pixel Data/ },
  // Data sets without an image (structured reports, RT plans, private sequences, character sets): pydicom reads their
  // elements; an image reader names what is missing.
  ...['reportsi_with_empty_number_tags.dcm', 'test-SR.dcm', 'rtplan.dcm', 'priv_SQ.dcm', 'UN_sequence.dcm', 'empty_charset_LEI.dcm', 'no_meta_group_length.dcm']
    .map((file) => ({ file, message: /holds no image \(no Pixel Data \(7FE0,0010\)\)/ })),
  { file: 'rtstruct.dcm', message: /not a DICOM Part 10 file/ },
  { file: 'waveform_ecg.dcm', message: /holds no image/ },
  { file: 'nested_priv_SQ.dcm', message: /truncated or malformed/ },
  // 12-bit JPEG Extended: pydicom decodes them with GDCM; the 8-bit libjpeg-turbo codec cannot, and says what to do.
  { file: 'JPEG-lossy.dcm', message: /1\.2\.840\.10008\.1\.2\.4\.51 \(JPEG Extended \(Process 2 & 4\)\).*12-bit.*apt-get install dcmtk/ },
  { file: 'JPGExtended.dcm', message: /12-bit samples.*dcmdjpeg/ },
  // A sequence delimiter inside the codestream's fragment: GDCM fails on it too (pydicom falls back to Pillow).
  { file: 'JPEG2000-embedded-sequence-delimiter.dcm', message: /JPEG 2000 codestream holds .* but the data set says 256x1024x1/ },
]);

interface Reference { file: string; ok: boolean; error?: string; shape?: number[]; frames?: number; percentiles?: number[]; voi?: 'lut' | 'window' }

function references(dir: string, frame: number, files: string[]): Map<string, Reference> {
  const r = spawnSync(PYTHON, [path.join(__dirname, '..', 'fixtures', 'dicom_reference.py'), dir, String(frame), ...files.map((f) => path.join(FILES, f))], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`test/fixtures/dicom_reference.py failed: ${r.stderr}\nThese tests need apt-get install python3-pydicom python3-gdcm`);
  return new Map(r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Reference).map((x) => [x.file, x]));
}

const npy = (dir: string, name: string) => parseNpy(fs.readFileSync(path.join(dir, name)), name).data as Float64Array;

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): { max: number; mean: number } {
  expect(a.length).toBe(b.length);
  let max = 0, sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    max = Math.max(max, d);
    sum += d;
  }
  return { max, mean: sum / a.length };
}

describeWithPydicom("DICOM against pydicom on pydicom's own test files", () => {
  const dir = tempDir('dicom');
  const refs = new Map<string, Reference>();
  const byFrame = new Map<number, string[]>();
  for (const c of [...LOSSLESS, ...LOSSY]) byFrame.set((c as { frame?: number }).frame ?? 0, [...(byFrame.get((c as { frame?: number }).frame ?? 0) ?? []), c.file]);
  beforeAll(() => {
    for (const [frame, files] of byFrame) {
      const sub = path.join(dir, `frame${frame}`);
      fs.mkdirSync(sub, { recursive: true });
      for (const [k, v] of references(sub, frame, files)) refs.set(`${frame}/${k}`, v);
    }
  });
  const ref = (file: string, frame = 0) => {
    const r = refs.get(`${frame}/${file}`)!;
    if (!r.ok) throw new Error(`pydicom cannot decode ${file} here (${r.error}): it should be listed among the errors, not compared`);
    return { r, at: (what: string) => npy(path.join(dir, `frame${frame}`), `${file}.${what}.npy`) };
  };

  test.each(LOSSLESS)('$file (frame $frame): stored and Modality LUT values equal pydicom\'s', async ({ file, frame, tolerance }) => {
    const { r, at } = ref(file, frame);
    const image = await decodeDicom(path.join(FILES, file), { frame });
    expect([image.height, image.width, ...(image.channels === 3 ? [3] : [])]).toEqual(r.shape);
    expect(image.frames).toBe(r.frames);
    expect(maxDiff(image.stored, at('stored')).max).toBeLessThanOrEqual(tolerance ?? 0);
    if (image.channels === 1) expect(maxDiff(image.values, at('values')).max).toBeLessThanOrEqual(1e-9);
    if (r.voi === 'window') expect(maxDiff(image.display, at('display')).max).toBeLessThan(1e-6);
  });

  test.each(LOSSY)('$file: lossy JPEG within $max of pydicom+GDCM (1 on average)', async ({ file, max }) => {
    const { at } = ref(file);
    const image = await decodeDicom(path.join(FILES, file));
    const d = maxDiff(image.stored, at('stored'));
    expect(d.max).toBeLessThanOrEqual(max);
    expect(d.mean).toBeLessThanOrEqual(1);
  });

  test.each(UNREFERENCED)('$file: read at the size its header gives ($why)', async ({ file, width, height }) => {
    const image = await decodeDicom(path.join(FILES, file));
    expect([image.width, image.height]).toEqual([width, height]);
    expect(image.values.every((v: number) => Number.isFinite(v))).toBe(true);
  });

  test('covers every .dcm file pydicom ships: each compared with pydicom or a named error', () => {
    const listed = new Set([...LOSSLESS, ...LOSSY, ...ERRORS, ...UNREFERENCED].map((x) => x.file));
    const shipped = fs.readdirSync(FILES).filter((f) => f.endsWith('.dcm'));
    expect(shipped.length).toBeGreaterThan(50);
    expect(shipped.filter((f) => !listed.has(f))).toEqual([]);
  });

  test.each(ERRORS)('$file: a named error with its path', async ({ file, message }) => {
    const full = path.join(FILES, file);
    const err = await decodeDicom(full).then(() => undefined, (e: Error & { code?: string }) => e);
    expect(err).toBeDefined();
    expect(err!.code).toBe('ERR_BAD_IMAGE');
    expect(err!.message.startsWith(`${full}: `)).toBe(true);
    expect(err!.message).toMatch(message);
  });

  test('no window stored (CT_small): the window spans the 0.5th-99.5th percentiles numpy computes, in Hounsfield units', async () => {
    const { r, at } = ref('CT_small.dcm');
    const image = await decodeDicom(path.join(FILES, 'CT_small.dcm'));
    const [lo, hi] = r.percentiles!;
    expect(image.voi).toEqual({ from: 'percentile', center: expect.closeTo((lo + hi) / 2, 9), width: expect.closeTo(hi - lo, 9), function: 'LINEAR_EXACT' });
    const values = at('values');
    for (let i = 0; i < values.length; i += 97) expect(image.display[i]).toBeCloseTo(Math.min(1, Math.max(0, (values[i] - lo) / (hi - lo))), 6);
  });

  test('a window given overrides the file\'s; "auto" takes the percentiles', async () => {
    const file = path.join(FILES, 'MR_small.dcm');
    const own = await decodeDicom(file);
    expect(own.voi).toEqual({ from: 'file', center: 600, width: 1600, function: 'LINEAR' });
    const same = await decodeDicom(file, { window: { center: 600, width: 1600 } });
    expect(Array.from(same.display)).toEqual(Array.from(own.display));
    const narrow = await decodeDicom(file, { window: { center: 1000, width: 200 } });
    expect(narrow.voi).toMatchObject({ from: 'option', center: 1000, width: 200 });
    expect(narrow.display.filter((v) => v === 0).length).toBeGreaterThan(own.display.filter((v) => v === 0).length);
    const { r } = ref('MR_small.dcm');
    expect((await decodeDicom(file, { window: 'auto' })).voi).toMatchObject({ from: 'percentile', width: expect.closeTo(r.percentiles![1] - r.percentiles![0], 9) });
  });

  test('MONOCHROME1 (pydicom writes MR_small as one): display inverted, values unchanged', async () => {
    const mono1 = path.join(dir, 'MR_small_mono1.dcm');
    const w = spawnSync(PYTHON, ['-c', `import pydicom, sys; ds = pydicom.dcmread(sys.argv[1]); ds.PhotometricInterpretation = 'MONOCHROME1'; ds.save_as(sys.argv[2])`, path.join(FILES, 'MR_small.dcm'), mono1], { encoding: 'utf8' });
    expect(w.stderr).toBe('');
    const [m1, m2] = [await decodeDicom(mono1), await decodeDicom(path.join(FILES, 'MR_small.dcm'))];
    expect(Array.from(m1.values)).toEqual(Array.from(m2.values));
    m1.display.forEach((v, i) => expect(v).toBeCloseTo(1 - m2.display[i], 6));
  });

  test('a frame out of range is a named error; the worker-thread reader returns what decodeDicom does', async () => {
    await expect(decodeDicom(path.join(FILES, 'rtdose.dcm'), { frame: 15 })).rejects.toThrow(/rtdose\.dcm: frame 15 was asked for but it holds 15 frames/);
    const viaWorker = await readDicom(path.join(FILES, 'rtdose.dcm'), { frame: 7 });
    const inThread = await decodeDicom(path.join(FILES, 'rtdose.dcm'), { frame: 7 });
    expect(Array.from(viaWorker.values)).toEqual(Array.from(inThread.values));
    await expect(readDicom(path.join(FILES, 'MR_truncated.dcm'))).rejects.toMatchObject({ code: 'ERR_BAD_IMAGE', message: expect.stringContaining('MR_truncated.dcm: truncated') });
    await expect(readDicom(path.join(FILES, 'rtdose.dcm'), { frame: -1 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG' });
    await expect(readDicom(path.join(FILES, 'rtdose.dcm'), { frmae: 1 } as never)).rejects.toThrow(/did you mean `frame`/);
    await expect(readDicom(path.join(FILES, 'MR_small.dcm'), { window: { center: 1, width: 0 } })).rejects.toThrow(/window\.width/);
    expect(isDicomFile(path.join(FILES, 'MR_small.dcm'))).toBe(true);
  });
});

describe('DICOM bounds (no pydicom needed)', () => {
  const dir = tempDir('dicom-bounds');

  test('a header asking for more pixels than the Pixel Data hold is refused before allocating', async () => {
    // A minimal explicit VR little endian file: Rows = Columns = 65535, 16-bit, 8 bytes of pixel data.
    const el = (g: number, e: number, vr: string, value: Buffer) => {
      const long = ['OB', 'OW', 'UN', 'SQ', 'UT'].includes(vr);
      const head = Buffer.alloc(long ? 12 : 8);
      head.writeUInt16LE(g, 0); head.writeUInt16LE(e, 2); head.write(vr, 4, 'latin1');
      if (long) head.writeUInt32LE(value.length, 8); else head.writeUInt16LE(value.length, 6);
      return Buffer.concat([head, value]);
    };
    const us = (v: number) => { const b = Buffer.alloc(2); b.writeUInt16LE(v); return b; };
    const ts = Buffer.from('1.2.840.10008.1.2.1\0', 'latin1');
    const metaBody = el(0x0002, 0x0010, 'UI', ts);
    const groupLength = Buffer.alloc(4); groupLength.writeUInt32LE(metaBody.length);
    const body = Buffer.concat([
      el(0x0028, 0x0002, 'US', us(1)), el(0x0028, 0x0004, 'CS', Buffer.from('MONOCHROME2 ')), el(0x0028, 0x0010, 'US', us(65535)),
      el(0x0028, 0x0011, 'US', us(65535)), el(0x0028, 0x0100, 'US', us(16)), el(0x0028, 0x0101, 'US', us(16)),
      el(0x0028, 0x0103, 'US', us(0)), el(0x7fe0, 0x0010, 'OW', Buffer.alloc(8)),
    ]);
    const file = path.join(dir, 'huge.dcm');
    fs.writeFileSync(file, Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), el(0x0002, 0x0000, 'UL', groupLength), metaBody, body]));
    await expect(decodeDicom(file)).rejects.toThrow(/huge\.dcm: its Pixel Data hold 8 bytes but 65535x65535 pixels x 1 frame x 1 sample x 16 bits need 8589672450/);
  });

  test('a file that is not DICOM, and a directory, are named errors', async () => {
    const text = path.join(dir, 'notes.dcm');
    fs.writeFileSync(text, 'not dicom');
    await expect(decodeDicom(text)).rejects.toMatchObject({ code: 'ERR_BAD_IMAGE', message: expect.stringContaining('notes.dcm: ') });
    await expect(decodeDicom(dir)).rejects.toThrow(/is a directory, not a regular file/);
  });
});

export type { DicomImage };

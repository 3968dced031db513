// A study's choice of DICOM frame and window (`data.dicom`, `run --dicom-frame/--dicom-window`) reaching the pixels
// models train on: a folder of copies of Debian's python3-pydicom multi-frame rtdose.dcm (15 frames of 10x10, 32-bit,
// no window stored) loaded at its own size, each image equal to readDicom's display pixels of the chosen frame and
// window (readDicom is checked against pydicom in test/unit/dicom.test.ts); the decoded-image cache keyed by both.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { loadData, type DataSpec } from '../../src/data/files/load';
import { readDicom, type DicomReadOptions } from '../../src/data/files/dicom';
import { runTinyFolderStudy } from '../helpers/tiny-study';
import { tempDir } from '../helpers/tmp';

const FILES = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
const have = fs.existsSync(path.join(FILES, 'rtdose.dcm'));
if (!have) console.warn(`Skipping the DICOM frame and window tests: ${FILES}/rtdose.dcm is missing (apt-get install python3-pydicom)`);

const MEAN = [0.485, 0.456, 0.406], STD = [0.229, 0.224, 0.225];

(have ? describe : describe.skip)('a study\'s DICOM frame and window', () => {
  const dir = tempDir('dicom-options');
  const data = path.join(dir, 'data'), cacheDir = path.join(dir, 'cache');
  const source = path.join(FILES, 'rtdose.dcm');
  beforeAll(() => {
    for (const label of ['a', 'b']) {
      fs.mkdirSync(path.join(data, label), { recursive: true });
      for (let i = 0; i < 12; i++) fs.copyFileSync(source, path.join(data, label, `${label}${i}.dcm`));
    }
  });

  /** Every image of both sides, checked equal to readDicom's display of `options`, normalised as models take it. */
  async function expectImagesOf(options: DicomReadOptions | undefined, fromCache: boolean) {
    const spec: DataSpec = { path: data, format: 'folder', valFraction: 0.4, ...(options ? { dicom: options } : {}) };
    const loaded = await loadData(spec, { size: 10, seed: 1, cacheDir });
    expect(loaded.fromCache).toEqual({ train: fromCache, val: fromCache });
    const want = (await readDicom(source, options)).display;
    for (const side of [loaded.train, loaded.val]) {
      const { data: pixels, shape } = side.images();
      expect(shape.slice(1)).toEqual([3, 10, 10]);
      for (let n = 0; n < shape[0]; n++)
        for (let c = 0; c < 3; c++)
          for (let p = 0; p < 100; p++)
            expect(pixels[(n * 3 + c) * 100 + p]).toBeCloseTo((Math.round(want[p] * 255) / 255 - MEAN[c]) / STD[c], 5);
      side.dispose();
    }
    return want;
  }

  it('reads the chosen frame with the chosen window into the images, and keys the decoded-image cache by both', async () => {
    const first = await expectImagesOf(undefined, false);
    const seventh = await expectImagesOf({ frame: 7 }, false);
    const windowed = await expectImagesOf({ frame: 7, window: { center: 2e6, width: 3e6 } }, false);
    // The three are different images (the frames differ; the window changes the grey levels) ...
    expect(Array.from(seventh)).not.toEqual(Array.from(first));
    expect(Array.from(windowed)).not.toEqual(Array.from(seventh));
    // ... each decoded once: loading again reads the cache, whatever order the window's fields are given in; frame 0
    // with the file's window is the default's key.
    await expectImagesOf({ frame: 7, window: { width: 3e6, center: 2e6 } as never }, true);
    await expectImagesOf({ frame: 7 }, true);
    await expectImagesOf({ frame: 0 }, true);
  });

  it('names a file without the chosen frame, or skips and counts it', async () => {
    const spec: DataSpec = { path: data, format: 'folder', valFraction: 0.4, dicom: { frame: 15 } };
    await expect(loadData(spec, { size: 10, seed: 1, cacheDir })).rejects.toThrow(/rtdose|a\d\.dcm|b\d\.dcm/);
    await expect(loadData(spec, { size: 10, seed: 1, cacheDir })).rejects.toThrow('frame 15 was asked for but it holds 15 frames (counted from 0)');
    await expect(loadData({ ...spec, onBadImage: 'skip' }, { size: 10, seed: 1, cacheDir })).rejects.toThrow('no train image could be read');
  });

  it('runs `run --data DIR --format folder --dicom-frame 7 --dicom-window -5e5,4e6` to exit 0, recorded in results.json', () => {
    const results = runTinyFolderStudy(data, path.join(dir, 'run'), path.join(dir, 'run-cache'), 24, ['--dicom-frame', '7', '--dicom-window', '-5e5,4e6']);
    expect(results.spec.task.data.dicom).toEqual({ frame: 7, window: { center: -5e5, width: 4e6 } });
  }, 600000);
});

// A study on a folder of class sub-folders holding DICOM files (copied from Debian's python3-pydicom test files, in
// several transfer syntaxes), through the command line as a user runs it: every file decodes in the DICOM worker
// pool, goes through the same resize and cache as other images, and the study exits 0.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { runTinyFolderStudy } from '../helpers/tiny-study';
import { tempDir } from '../helpers/tmp';

const FILES = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
const CLASSES = {
  mr: ['MR_small.dcm', 'MR_small_implicit.dcm', 'MR_small_bigendian.dcm', 'MR_small_expb.dcm', 'MR_small_padded.dcm', 'MR_small_RLE.dcm', 'MR_small_jpeg_ls_lossless.dcm', 'MR_small_jp2klossless.dcm'],
  other: ['CT_small.dcm', 'rtdose_1frame.dcm', 'liver_1frame.dcm', 'image_dfl.dcm', 'SC_rgb_rle.dcm', 'SC_rgb_jpeg_dcmtk.dcm', 'JPEG2000.dcm', 'SC_rgb_jpeg_gdcm.dcm'],
};
const have = fs.existsSync(FILES);
if (!have) console.warn(`Skipping the DICOM study: ${FILES} is missing (apt-get install python3-pydicom)`);

(have ? describe : describe.skip)('run --data DIR --format folder with .dcm images', () => {
  const dir = tempDir('dicom-study');

  it('runs the tiny preset to exit 0 on DICOM files of eight transfer syntaxes', () => {
    const data = path.join(dir, 'data');
    for (const [label, files] of Object.entries(CLASSES))
      for (const copy of [1, 2]) {
        fs.mkdirSync(path.join(data, label), { recursive: true });
        for (const f of files) fs.copyFileSync(path.join(FILES, f), path.join(data, label, `${copy}-${f}`));
      }
    runTinyFolderStudy(data, path.join(dir, 'run'), path.join(dir, 'cache'), 32);
  }, 600000);
});

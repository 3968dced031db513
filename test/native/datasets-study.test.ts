// One tiny study per dataset layout of issue 18, through the command line as a user runs it (`run --data DIR --format
// F --preset tiny --models cbr-tiny`): each runs to exit 0, records its format in results.json, counts the one
// corrupt image it holds under --on-bad-image skip, named by its CSV row and image path, and counts the rows its
// layout's rules leave out (Messidor-2's ungradable image) in results.json and report.md.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

import sharp from 'sharp';

import { loadDataset, type DataFormat } from '../../src';
import { runTinyFolderStudy } from '../helpers/tiny-study';
import { tempDir } from '../helpers/tmp';

const dir = tempDir('datasets-study');
const bin = path.resolve(__dirname, '../../bin/transfusion-native.js');
const cache = path.join(dir, 'cache');  // shared: the embedded pretraining runs once
const N = 24;
const PYDICOM_CT = '/usr/lib/python3/dist-packages/pydicom/data/test_files/CT_small.dcm';

async function image(file: string, seed: number): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  if (seed === 5) return fs.writeFileSync(file, 'corrupt');  // item 5 of every layout: the image --on-bad-image skip counts
  const pixels = Buffer.from(Array.from({ length: 24 * 24 }, (_, i) => (i * 7 + seed * 29) % 256));
  const s = sharp(pixels, { raw: { width: 24, height: 24, channels: 1 } });
  await (file.endsWith('.png') ? s.png() : s.jpeg()).toFile(file);
}
const write = (file: string, lines: string[]) => {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const text = lines.join('\n') + '\n';
  fs.writeFileSync(file, file.endsWith('.gz') ? zlib.gzipSync(text) : text);
};
const bit = (i: number, k: number) => ((i * 7 + k * 3) % 5 < 2 ? 1 : 0);  // a label pattern with both classes on each side

/** MIMIC-CXR as PhysioNet lays it out: the JPG release (`jpg`) or the DICOM release (`dcm`), the same tables. */
async function mimic(ext: 'jpg' | 'dcm'): Promise<{ data: string; csv: string; row: number }> {
  const data = path.join(dir, `mimic-${ext}`);
  const items = Array.from({ length: N }, (_, i) => ({ dicom: `${i.toString(16).padStart(8, '0')}-bde0afdd-112c0b34-7bc16630-4e384014`, subject: String(10000000 + (i >> 1)), study: String(50000000 + i) }));
  const v = (i: number, k: number) => (bit(i, k) ? '1.0' : i % 4 === 3 ? '-1.0' : '');
  write(path.join(data, 'mimic-cxr-2.0.0-chexpert.csv.gz'), ['subject_id,study_id,Atelectasis,Cardiomegaly,Consolidation,Edema,Enlarged Cardiomediastinum,Fracture,Lung Lesion,Lung Opacity,No Finding,Pleural Effusion,Pleural Other,Pneumonia,Pneumothorax,Support Devices',
    ...items.map((t, i) => `${t.subject},${t.study},${v(i, 0)},${v(i, 1)},${v(i, 2)},${v(i, 3)},,,,,,${v(i, 4)},,,,`)]);
  write(path.join(data, 'mimic-cxr-2.0.0-split.csv.gz'), ['dicom_id,study_id,subject_id,split', ...items.map((t, i) => `${t.dicom},${t.study},${t.subject},${i < 18 ? 'train' : 'validate'}`)]);
  write(path.join(data, 'mimic-cxr-2.0.0-metadata.csv.gz'), ['dicom_id,subject_id,study_id,PerformedProcedureStepDescription,ViewPosition,Rows,Columns,StudyDate,StudyTime,ProcedureCodeSequence_CodeMeaning,ViewCodeSequence_CodeMeaning,PatientOrientationCodeSequence_CodeMeaning',
    ...items.map((t, i) => `${t.dicom},${t.subject},${t.study},CHEST (PORTABLE AP),${i % 2 ? 'AP' : 'PA'},24,24,21800506,213014.531,CHEST (PORTABLE AP),antero-posterior,Erect`)]);
  const file = (t: (typeof items)[number]) => path.join(data, 'files', `p${t.subject.slice(0, 2)}`, `p${t.subject}`, `s${t.study}`, `${t.dicom}.${ext}`);
  if (ext === 'jpg') await Promise.all(items.map((t, i) => image(file(t), i)));
  else
    items.forEach((t, i) => {
      fs.mkdirSync(path.dirname(file(t)), { recursive: true });
      if (i === 5) fs.writeFileSync(file(t), 'corrupt');
      else fs.copyFileSync(PYDICOM_CT, file(t));  // a real DICOM file of pydicom's (CT, 16-bit signed, rescaled)
    });
  return { data, csv: path.join(data, 'mimic-cxr-2.0.0-split.csv.gz'), row: 7 };
}

/** Each layout: its folder and, for the corrupt item 5, the CSV and row its `where` names. */
const layouts: Record<string, () => Promise<{ data: string; csv: string; row: number }>> = {
  async 'nih-chestxray14'() {
    const data = path.join(dir, 'nih');
    const names = Array.from({ length: N }, (_, i) => `${String(i >> 1).padStart(8, '0')}_00${i & 1}.png`);
    const labels = (i: number) => ['Atelectasis', 'Cardiomegaly', 'Consolidation', 'Edema', 'Effusion'].filter((_, k) => bit(i, k)).join('|') || 'No Finding';
    write(path.join(data, 'Data_Entry_2017_v2020.csv'), ['Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,View Position,OriginalImage[Width,Height],OriginalImagePixelSpacing[x,y]',
      ...names.map((n, i) => `${n},${labels(i)},${i & 1},${i >> 1},50,F,PA,24,24,0.1,0.1`)]);
    write(path.join(data, 'train_val_list.txt'), names.filter((_, i) => i < 18));
    write(path.join(data, 'test_list.txt'), names.filter((_, i) => i >= 18));
    await Promise.all(names.map((n, i) => image(path.join(data, `images_00${1 + (i % 2)}`, 'images', n), i)));
    return { data, csv: path.join(data, 'Data_Entry_2017_v2020.csv'), row: 7 };
  },
  'mimic-cxr': () => mimic('jpg'),
  'mimic-cxr (DICOM release)': () => mimic('dcm'),
  async aptos2019() {
    const data = path.join(dir, 'aptos');
    const ids = Array.from({ length: N }, (_, i) => `${(0xa0c1434d8d7 + i * 977).toString(16)}`);
    write(path.join(data, 'train.csv'), ['id_code,diagnosis', ...ids.map((id, i) => `${id},${i % 5}`)]);
    await Promise.all(ids.map((id, i) => image(path.join(data, 'train_images', `${id}.png`), i)));
    return { data, csv: path.join(data, 'train.csv'), row: 7 };
  },
  async messidor2() {
    const data = path.join(dir, 'messidor2');
    const names = Array.from({ length: N }, (_, i) => `IM00${2385 + i}.JPG`);
    write(path.join(data, 'messidor_data.csv'), ['image_id,adjudicated_dr_grade,adjudicated_dme,adjudicated_gradable', ...names.map((n, i) => `${n.toLowerCase().replace('im', 'IM')},${i % 2 ? 2 + ((i >> 1) % 3) : (i >> 1) % 2},0,1`),
      'IM009999.JPG,,,0']);  // one eye referable per exam; one ungradable image, left out and counted
    write(path.join(data, 'messidor-2.csv'), ['left;right', ...Array.from({ length: N / 2 }, (_, k) => `${names[2 * k]};${names[2 * k + 1]}`)]);
    await Promise.all(names.map((n, i) => image(path.join(data, 'IMAGES', n), i)));
    return { data, csv: path.join(data, 'messidor_data.csv'), row: 7 };
  },
  async idrid() {
    const data = path.join(dir, 'IDRiD');
    const root = path.join(data, 'B. Disease Grading');
    const sets = [['a', 'Training', 18], ['b', 'Testing', N - 18]] as const;
    let k = 0;
    for (const [letter, kind, n] of sets) {
      const names = Array.from({ length: n }, (_, i) => `IDRiD_${String(i + 1).padStart(3, '0')}`);
      write(path.join(root, '2. Groundtruths', `${letter}. IDRiD_Disease Grading_${kind} Labels.csv`), ['Image name,Retinopathy grade,Risk of macular edema ', ...names.map((m, i) => `${m},${(i + k) % 5},0`)]);
      for (const m of names) await image(path.join(root, '1. Original Images', `${letter}. ${kind} Set`, `${m}.jpg`), k++);
    }
    return { data, csv: path.join(root, '2. Groundtruths', 'a. IDRiD_Disease Grading_Training Labels.csv'), row: 7 };
  },
};

// RSNA's images are DICOM: its study runs once the DICOM decoder is part of the image pipeline (issue 18's other half).
const dicomInPipeline = /dicom/i.test(fs.readFileSync(path.resolve(__dirname, '../../src/data/files/images.ts'), 'utf8'));
layouts['rsna-pneumonia'] = async () => {
  const data = path.join(dir, 'rsna');
  const ids = Array.from({ length: N }, (_, i) => `${i.toString(16).padStart(8, '0')}-14fd-4e49-80ba-63a80b6bddd6`);
  write(path.join(data, 'stage_2_train_labels.csv'), ['patientId,x,y,width,height,Target',
    ...ids.flatMap((id, i) => (i % 3 === 0 ? [`${id},264.0,152.0,213.0,379.0,1`, `${id},562.0,152.0,256.0,453.0,1`] : [`${id},,,,,0`]))]);
  fs.mkdirSync(path.join(data, 'stage_2_train_images'), { recursive: true });
  ids.forEach((id, i) => (i === 5 ? fs.writeFileSync(path.join(data, 'stage_2_train_images', `${id}.dcm`), 'corrupt') : fs.copyFileSync(PYDICOM_CT, path.join(data, 'stage_2_train_images', `${id}.dcm`))));
  return { data, csv: path.join(data, 'stage_2_train_labels.csv'), row: 9 };  // patient 5's row: patients 0 and 3 have two rows each
};

describe('a tiny study on each dataset layout', () => {
  for (const layout of Object.keys(layouts)) {
    const format = layout.split(' ')[0];
    const dicom = format === 'rsna-pneumonia' || /DICOM/.test(layout);
    const runs = !dicom || (dicomInPipeline && fs.existsSync(PYDICOM_CT));
    (runs ? it : it.skip)(`${layout}: run --data DIR --format ${format} exits 0, the corrupt image counted in results.json`, async () => {
      const { data, csv, row } = await layouts[layout]();
      const out = path.join(dir, `run-${layout.replace(/\W+/g, '-')}`);
      const r = spawnSync(process.execPath, [bin, 'run', '--preset', 'tiny', '--models', 'cbr-tiny', '--seed', '0', '--data', data, '--format', format,
        '--on-bad-image', 'skip', '--out', out, '--cache-dir', cache, '--quiet'], { encoding: 'utf8', env: { ...process.env, TRANSFUSION_THREADS: '2' } });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const results = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));
      expect(results.data.format).toBe(format);
      expect(results.data.skipped).toEqual([{ where: expect.stringContaining(`${csv} row ${row} (`), reason: expect.any(String) }]);
      expect(results.data.available.train + results.data.available.val).toBe(N);
      // Rows the layout's own rules leave out: counted by reason in results.json and report.md's task paragraph.
      const dropped = format === 'messidor2' ? [{ reason: 'ungradable (adjudicated_gradable 0)', count: 1 }] : [];
      expect(results.data.dropped).toEqual(dropped);
      expect(fs.readFileSync(path.join(out, 'report.md'), 'utf8')).toContain(`Rows left out by the format's rules: ${dropped.length ? 'ungradable (adjudicated_gradable 0): 1' : 'none'}.`);
      expect(results.runs.length).toBeGreaterThan(0);
      for (const run of results.runs) expect(run.auc).toBeGreaterThanOrEqual(0);
      // The library reads the same folder as the study did (issue 31: loadDataset): every item on one side or the
      // other, the corrupt one skipped and named, the layout's dropped rows counted, tensors at the size asked.
      const loaded = await loadDataset({ path: data, format: format as DataFormat, onBadImage: 'skip' }, { size: 32, cacheDir: cache });
      try {
        expect(loaded.format).toBe(format);
        expect(loaded.skipped).toEqual(results.data.skipped);
        expect(loaded.dropped).toEqual(dropped);
        expect(loaded.available.train + loaded.available.val).toBe(N);
        expect(loaded.train.count + loaded.val.count).toBe(N - 1);
        expect(loaded.train.info()).toMatchObject({ source: format, height: 32, width: 32, channels: 3 });
        expect(loaded.train.targets().length).toBe(loaded.train.count * loaded.train.info().outputs);
      } finally {
        [loaded.train, loaded.val].forEach((d) => d.dispose());
      }
    }, 300000);
  }
});

// PadChest ships 16-bit greyscale PNGs: a study on a folder of them reads each at full depth (windowed from its 16-bit
// values, test/unit/datasets.test.ts checks the window against PIL) and trains to exit 0.
describe('a tiny study on 16-bit PNGs (PadChest-style)', () => {
  it('run --data DIR --format folder exits 0 on class folders of 16-bit greyscale PNGs', async () => {
    const data = path.join(dir, 'png16');
    await Promise.all(
      ['normal', 'effusion'].flatMap((label, c) =>
        Array.from({ length: 16 }, async (_, k) => {
          // Values in 12 of the 16 bits; the classes differ in a bright disc, as a lesion would.
          const values = Uint16Array.from({ length: 24 * 24 }, (_, i) => 1000 + ((i * 53 + k * 97) % 2000) + (c && Math.hypot((i % 24) - 12, Math.floor(i / 24) - 12) < 5 ? 1000 : 0));
          const file = path.join(data, label, `${label}-${k}.png`);
          fs.mkdirSync(path.dirname(file), { recursive: true });
          await sharp(values, { raw: { width: 24, height: 24, channels: 1 } }).toColourspace('grey16').png().toFile(file);
        }),
      ),
    );
    runTinyFolderStudy(data, path.join(dir, 'run-png16'), cache, 32);
  }, 300000);
});

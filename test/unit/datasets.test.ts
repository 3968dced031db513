// NIH ChestX-ray14, MIMIC-CXR, RSNA Pneumonia, APTOS 2019, Messidor-2 and IDRiD read from tiny copies laid out as
// their downloads are (real file, folder and column names; MIMIC's tables gzipped as PhysioNet ships them), labels
// checked against Python's csv module, rows a layout's rules leave out counted by reason, the grade target, MIMIC-CXR's
// DICOM release read from real DICOM files through the loader (checked against pydicom), and a 16-bit PNG decoded at
// full depth, checked against PIL and numpy.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

import sharp from 'sharp';

import { CHEST_LABEL_MAP, alignFindings, readMimicCxr, readNihChestXray14, readRsnaPneumonia } from '../../src/data/files/chest-datasets';
import { readAptos2019, readIdrid, readMessidor2 } from '../../src/data/files/retina-datasets';
import { DATA_FORMATS, DATA_FORMAT_DESCRIPTIONS, DR_GRADES, detectFormat, readLabelled, type LabelledSet } from '../../src/data/files/formats';
import { decodeToFile } from '../../src/data/files/images';
import { splitByGroup } from '../../src/data/files/load';
import { parseNpy } from '../../src/data/files/npy';
import { runFixture } from '../helpers/python';
import { tempDir } from '../helpers/tmp';

const dir = tempDir('datasets');

async function grey(file: string, seed: number): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const pixels = Buffer.from(Array.from({ length: 16 * 16 }, (_, i) => (i * 5 + seed * 41) % 256));
  const image = sharp(pixels, { raw: { width: 16, height: 16, channels: 1 } });
  await (/\.png$/i.test(file) ? image.png() : image.jpeg()).toFile(file);
}

const write = (file: string, text: string) => {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, file.endsWith('.gz') ? zlib.gzipSync(text) : text);
};
const rows = (set: LabelledSet) => Array.from({ length: set.inputs.length }, (_, i) => Array.from(set.targets.subarray(i * 5, i * 5 + 5)));
const files = (set: LabelledSet) => set.inputs.map((x) => ('file' in x ? x.file : ''));

/** No patient on both sides of the split the loader would make (the format's own, else a seeded random one). */
function expectPatientLevel(set: LabelledSet): void {
  for (const seed of [0, 1, 2]) {
    const split = splitByGroup(set, 0.4, seed);
    const train = new Set(split.train.map((i) => set.groups[i]));
    expect(split.val.filter((i) => train.has(set.groups[i]))).toEqual([]);
    expect(split.train.length + split.val.length).toBe(set.inputs.length);
  }
}

describe('the format table', () => {
  it('describes every format once, and detects by the table with a fallback for an unknown CSV and for a folder', () => {
    expect(DATA_FORMAT_DESCRIPTIONS.map((f) => f.name)).toEqual([...DATA_FORMATS]);
    expect(new Set(DATA_FORMATS).size).toBe(DATA_FORMATS.length);
    DATA_FORMAT_DESCRIPTIONS.forEach((f) => expect(f.describe.length).toBeGreaterThan(10));
    const at = (name: string, text: string) => (write(path.join(dir, 'table', name), text), path.join(dir, 'table', name));
    expect(detectFormat(at('kaggle.csv', 'image,level\n10_left,0\n'))).toBe('eyepacs');
    expect(detectFormat(at('odd.csv', 'a,b\n1,2\n'))).toBe('eyepacs');  // the CSV fallback: its reader names the columns it lacks
    expect(detectFormat(at('cx.csv', 'Path,Sex,Age,Frontal/Lateral\n'))).toBe('chexpert');
    expect(detectFormat(at('ap.csv', 'id_code,diagnosis\n'))).toBe('aptos2019');
    expect(detectFormat(at('rs/train.csv', 'patientId,x,y,width,height,Target\n'))).toBe('rsna-pneumonia');
    expect(detectFormat(path.dirname(at('ms/messidor_data.csv', 'x\n')))).toBe('messidor2');
    fs.mkdirSync(path.join(dir, 'table', 'empty'), { recursive: true });
    expect(detectFormat(path.join(dir, 'table', 'empty'))).toBe('folder');  // the folder fallback
    expect(() => detectFormat(at('notes.txt', 'x'))).toThrow(`--data ${path.join(dir, 'table', 'notes.txt')}: cannot tell its format; give --format (${DATA_FORMATS.join(', ')})`);
  });
});

describe('NIH ChestX-ray14', () => {
  const root = path.join(dir, 'nih');
  // The header as NIH ships it: the bracketed pairs split by their commas, and a trailing comma its rows lack.
  const header = 'Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,View Position,OriginalImage[Width,Height],OriginalImagePixelSpacing[x,y],';
  const entries = [
    ['00000001_000.png', 'Cardiomegaly', 1, 'images_001'], ['00000001_001.png', 'Cardiomegaly|Emphysema', 1, 'images_001'],
    ['00000002_000.png', 'No Finding', 2, 'images_001'], ['00000003_000.png', 'Effusion|Atelectasis|Infiltration', 3, 'images_002'],
    ['00000003_001.png', 'Edema|Consolidation', 3, 'images_002'], ['00000004_000.png', 'Hernia', 4, 'images_002'],
  ] as const;
  beforeAll(async () => {
    write(path.join(root, 'Data_Entry_2017.csv'), [header, ...entries.map(([n, f, p], i) => `${n},${f},${i},${p},58,M,${i % 2 ? 'AP' : 'PA'},2682,2749,0.143,0.143`)].join('\n') + '\n');
    write(path.join(root, 'train_val_list.txt'), '00000001_000.png\n00000001_001.png\n00000003_000.png\n00000003_001.png\n');
    write(path.join(root, 'test_list.txt'), '00000002_000.png\n00000004_000.png\n');
    for (const [n, , , folder] of entries) await grey(path.join(root, folder, 'images', n), n.charCodeAt(7));
  });

  it('reads Data_Entry_2017.csv into the five findings as Python\'s csv module does, with images from every images_NNN/images/', () => {
    const set = readNihChestXray14(root);
    const python = JSON.parse(runFixture('dataset_labels.py', ['nih', root])) as { image: string; patient: number; targets: number[] }[];
    expect(rows(set)).toEqual(python.map((p) => p.targets));
    expect(set.groups).toEqual(python.map((p) => `patient ${p.patient}`));
    expect(files(set)).toEqual(entries.map(([n, , , folder]) => path.join(root, folder, 'images', n)));
    expect(set.labels).toEqual(['Atelectasis', 'Cardiomegaly', 'Consolidation', 'Edema', 'Pleural Effusion']);
    expect(set.mask).toBeUndefined();  // NIH has all five
    expect(set.where[3]).toBe(`${path.join(root, 'Data_Entry_2017.csv')} row 5 (${path.join('images_002', 'images', '00000003_000.png')})`);
    expect(detectFormat(root)).toBe('nih-chestxray14');
  });

  it('uses train_val_list.txt / test_list.txt as the split, patient-disjoint; refuses a patient on both sides', () => {
    const set = readNihChestXray14(root);
    expect(set.splits).toEqual({ train: [0, 1, 3, 4], val: [2, 5] });
    expectPatientLevel(set);
    const leaky = path.join(dir, 'nih-leaky');
    fs.cpSync(root, leaky, { recursive: true });
    write(path.join(leaky, 'train_val_list.txt'), '00000001_000.png\n00000003_000.png\n00000003_001.png\n');
    write(path.join(leaky, 'test_list.txt'), '00000001_001.png\n00000002_000.png\n00000004_000.png\n');
    expect(() => readNihChestXray14(leaky)).toThrow(/patient 1 is in both the training and the validation split/);
    fs.rmSync(path.join(leaky, 'train_val_list.txt'));
    expectPatientLevel(readNihChestXray14(leaky));  // without the lists: whole patients held out
  });

  it('names the file, row and image of an unknown finding or an image in neither list', () => {
    const bad = path.join(dir, 'nih-bad');
    write(path.join(bad, 'Data_Entry_2017.csv'), `${header}\n00000009_000.png,Efusion,0,9,40,F,PA,1,1,1,1\n`);
    expect(() => readNihChestXray14(bad)).toThrow(`${path.join(bad, 'Data_Entry_2017.csv')} row 2 (${path.join('images', '00000009_000.png')}): Finding Labels has "Efusion"`);
    write(path.join(bad, 'Data_Entry_2017.csv'), `${header}\n00000009_000.png,Mass,0,9,40,F,PA,1,1,1,1\n`);
    write(path.join(bad, 'train_val_list.txt'), '');
    write(path.join(bad, 'test_list.txt'), '');
    expect(() => readNihChestXray14(bad)).toThrow('00000009_000.png is in neither train_val_list.txt nor test_list.txt');
  });
});

describe('MIMIC-CXR-JPG', () => {
  const root = path.join(dir, 'mimic-cxr-jpg');
  const findings = 'Atelectasis,Cardiomegaly,Consolidation,Edema,Enlarged Cardiomediastinum,Fracture,Lung Lesion,Lung Opacity,No Finding,Pleural Effusion,Pleural Other,Pneumonia,Pneumothorax,Support Devices';
  const studies = [  // subject, study, Atelectasis, Cardiomegaly, Consolidation, Edema, Pleural Effusion
    ['10000032', '50414267', '', '1.0', '', '-1.0', '0.0'], ['10000032', '53189527', '-1.0', '', '1.0', '', ''],
    ['10000764', '57375967', '1.0', '0.0', '-1.0', '1.0', '-1.0'], ['10000898', '50771383', '', '', '', '', '1.0'],
    ['10001176', '53186264', '0.0', '1.0', '', '0.0', ''],
  ];
  const images = [  // dicom_id, subject, study, view, split
    ['02aa804e-bde0afdd-112c0b34-7bc16630-4e384014', '10000032', '50414267', 'PA', 'train'],
    ['174413ec-4ec4c1f7-34ea26b7-c5f994f8-79ef1962', '10000032', '50414267', 'LATERAL', 'train'],
    ['2a2277a9-b0ded155-c0de8eb9-c124d10e-82c5caab', '10000032', '53189527', 'AP', 'train'],
    ['fffabebf-74fd3a1f-673b6b41-96ec0ac9-2ab69818', '10000764', '57375967', 'AP', 'validate'],
    ['ea030e7a-2e3b1346-bc518786-7a8fd698-f673b44c', '10000898', '50771383', 'PA', 'train'],
    ['b7a7b9cc-b20fd6f0-74a08e4b-c1f8bd87-3ea5b4fc', '10001176', '53186264', 'PA', 'test'],
    ['096052b7-d256dc40-453a102b-fa7d01c6-1b22c6b4', '10001176', '53186264', 'PA', 'test'],
  ];
  const jpg = ([id, subject, study]: string[]) => path.join('files', `p${subject.slice(0, 2)}`, `p${subject}`, `s${study}`, `${id}.jpg`);
  beforeAll(async () => {
    write(path.join(root, 'mimic-cxr-2.0.0-chexpert.csv.gz'), [`subject_id,study_id,${findings}`,
      ...studies.map(([su, st, at, ca, co, ed, ef]) => `${su},${st},${at},${ca},${co},${ed},,,,,,${ef},,,,`)].join('\n') + '\n');
    write(path.join(root, 'mimic-cxr-2.0.0-split.csv.gz'), ['dicom_id,study_id,subject_id,split', ...images.map(([d, su, st, , sp]) => `${d},${st},${su},${sp}`)].join('\n') + '\n');
    write(path.join(root, 'mimic-cxr-2.0.0-metadata.csv.gz'), ['dicom_id,subject_id,study_id,PerformedProcedureStepDescription,ViewPosition,Rows,Columns,StudyDate,StudyTime,ProcedureCodeSequence_CodeMeaning,ViewCodeSequence_CodeMeaning,PatientOrientationCodeSequence_CodeMeaning',
      ...images.map(([d, su, st, v]) => `${d},${su},${st},CHEST (PA AND LAT),${v},3056,2544,21800506,213014.531,CHEST (PA AND LAT),postero-anterior,Erect`)].join('\n') + '\n');
    for (const [k, image] of images.entries()) await grey(path.join(root, jpg(image)), k);
  });

  it('reads the gzipped tables into the five findings (-1.0 as CheXpert\'s default policy) as Python\'s csv module does', () => {
    const set = readMimicCxr(root);
    const python = JSON.parse(runFixture('dataset_labels.py', ['mimic', root])) as { file: string; split: string; patient: string; targets: number[] }[];
    expect(files(set)).toEqual(python.map((p) => path.join(root, p.file)));
    expect(rows(set)).toEqual(python.map((p) => p.targets));
    expect(set.groups).toEqual(python.map((p) => p.patient));
    expect(set.splits).toEqual({ train: python.flatMap((p, i) => (p.split === 'train' ? [i] : [])), val: python.flatMap((p, i) => (p.split === 'val' ? [i] : [])) });
    expect(set.inputs).toHaveLength(4);  // the lateral and the test images left out, counted by reason
    expect(set.dropped).toEqual([{ reason: 'not a frontal view (ViewPosition neither PA nor AP)', count: 1 }, { reason: 'test split (split.csv: test)', count: 2 }]);
    expect(detectFormat(root)).toBe('mimic-cxr');
    expectPatientLevel(set);
    expect(CHEST_LABEL_MAP['mimic-cxr']['Pleural Effusion']).toBe('Pleural Effusion');
  });

  it('masks uncertain labels under "ignore", keeps lateral views with frontalOnly false, and names a bad value by file and row', () => {
    const set = readMimicCxr(root, { policy: { Edema: 'ignore' } });
    expect(Array.from(set.mask!.subarray(0, 5))).toEqual([1, 1, 1, 0, 1]);
    expect(readMimicCxr(root, { frontalOnly: false }).inputs).toHaveLength(5);
    expect(readMimicCxr(root, { frontalOnly: false }).dropped).toEqual([{ reason: 'test split (split.csv: test)', count: 2 }]);
    expect(readLabelled('mimic-cxr', root, { policy: { 'Pleural Effusion': 'ones' } }).targets[2 * 5 + 4]).toBe(1);
    expect(() => readLabelled('mimic-cxr', root, { target: 'grade' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG', message: expect.stringContaining('but mimic-cxr data hold no DR grades') }));
    const bad = path.join(dir, 'mimic-bad');
    fs.cpSync(root, bad, { recursive: true });
    write(path.join(bad, 'mimic-cxr-2.0.0-chexpert.csv.gz'), `subject_id,study_id,${findings}\n10000032,50414267,2.0,,,,,,,,,,,,,\n`);
    expect(() => readMimicCxr(bad)).toThrow(`${path.join(bad, 'mimic-cxr-2.0.0-chexpert.csv.gz')} row 2: Atelectasis is "2.0", not 1.0, 0.0, -1.0 or blank`);
    // Studies without a label row: every image of the four other studies, counted (the test images first by their split).
    write(path.join(bad, 'mimic-cxr-2.0.0-chexpert.csv.gz'), `subject_id,study_id,${findings}\n10000032,50414267,1.0,,,,,,,,,,,,,\n`);
    expect(readMimicCxr(bad).dropped).toEqual([{ reason: 'not a frontal view (ViewPosition neither PA nor AP)', count: 1 }, { reason: 'study without a label row', count: 3 }, { reason: 'test split (split.csv: test)', count: 2 }]);
    write(path.join(bad, 'mimic-cxr-2.0.0-split.csv.gz'), `dicom_id,study_id,subject_id,split\n02aa804e-bde0afdd-112c0b34-7bc16630-4e384014,50414267,../../x,train\n`);
    expect(() => readMimicCxr(bad)).toThrow(`${path.join(bad, 'mimic-cxr-2.0.0-split.csv.gz')} row 2: subject_id "../../x" is not a MIMIC id`);
  });

  it('points at .dcm files for the DICOM release (MIMIC-CXR), paths only', () => {
    const dicom = path.join(dir, 'mimic-cxr-dicom');
    fs.mkdirSync(dicom);
    for (const f of fs.readdirSync(root).filter((f) => f.endsWith('.gz'))) fs.copyFileSync(path.join(root, f), path.join(dicom, f));
    const first = path.join(dicom, jpg(images[0]).replace(/\.jpg$/, '.dcm'));
    write(first, 'DICM');
    expect(files(readMimicCxr(dicom))[0]).toBe(first);
  });

  // The DICOM release with real DICOM bytes: pydicom's MR_small in four transfer syntaxes (same pixels), one per image.
  const PYDICOM_FILES = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
  (fs.existsSync(PYDICOM_FILES) ? it : it.skip)('reads the DICOM release\'s real files: the loader\'s pixels are pydicom\'s windowed values', async () => {
    const dicom = path.join(dir, 'mimic-cxr-dicom-bytes');
    fs.mkdirSync(dicom);
    for (const f of fs.readdirSync(root).filter((f) => f.endsWith('.gz'))) fs.copyFileSync(path.join(root, f), path.join(dicom, f));
    const syntaxes = ['MR_small.dcm', 'MR_small_implicit.dcm', 'MR_small_bigendian.dcm', 'MR_small_RLE.dcm'];
    images.forEach((image, k) => {
      const to = path.join(dicom, jpg(image).replace(/\.jpg$/, '.dcm'));
      fs.mkdirSync(path.dirname(to), { recursive: true });
      fs.copyFileSync(path.join(PYDICOM_FILES, syntaxes[k % syntaxes.length]), to);
    });
    const set = readMimicCxr(dicom);
    expect(files(set)).toEqual(files(readMimicCxr(root)).map((f) => f.replace(root, dicom).replace(/\.jpg$/, '.dcm')));
    // pydicom: each file's Modality LUT values windowed by its Window Center/Width (600/1600), scaled to [0, 1].
    const refDir = path.join(dir, 'mimic-dicom-reference');
    fs.mkdirSync(refDir);
    const refs = runFixture('dicom_reference.py', [refDir, '0', ...files(set)]).trim().split('\n').map((l) => JSON.parse(l) as { file: string; ok: boolean; shape: number[]; voi?: string });
    expect(refs.map((r) => [r.ok, r.shape, r.voi])).toEqual(files(set).map(() => [true, [64, 64], 'window']));
    // The loader: decoded at the files' own 64 px (no resampling), grey as three equal planes, (N, 3, 64, 64) uint8.
    const out = path.join(dicom, 'decoded.u8');
    const decoded = await decodeToFile(set.inputs, { size: 64 }, out, (j) => set.where[j]);
    expect(decoded).toEqual({ kept: [0, 1, 2, 3], bad: [] });
    const rows = fs.readFileSync(out), plane = 64 * 64;
    refs.forEach((r, n) => {
      const display = parseNpy(fs.readFileSync(path.join(refDir, `${r.file}.display.npy`)), r.file).data as Float64Array;
      for (let c = 0; c < 3; c++) {
        const got = rows.subarray((n * 3 + c) * plane, (n * 3 + c + 1) * plane);
        let worst = 0;
        display.forEach((v, i) => (worst = Math.max(worst, Math.abs(got[i] - 255 * v))));
        expect(worst).toBeLessThanOrEqual(0.5 + 1e-9);  // round(255 x pydicom's display value)
      }
    });
  });
});

describe('CheXpert', () => {
  it('counts the lateral views it leaves out (frontal only, the default)', () => {
    const root = path.join(dir, 'CheXpert-v1.0-small');
    const head = 'Path,Sex,Age,Frontal/Lateral,AP/PA,No Finding,Enlarged Cardiomediastinum,Cardiomegaly,Lung Opacity,Lung Lesion,Edema,Consolidation,Pneumonia,Atelectasis,Pneumothorax,Pleural Effusion,Pleural Other,Fracture,Support Devices';
    write(path.join(root, 'train.csv'), [head, 'CheXpert-v1.0-small/train/patient00001/study1/view1_frontal.jpg,Female,68,Frontal,AP,1.0,,,,,,,,,0.0,,,,1.0',
      'CheXpert-v1.0-small/train/patient00002/study2/view1_frontal.jpg,Female,87,Frontal,AP,,,-1.0,1.0,,-1.0,-1.0,,-1.0,,-1.0,,1.0,',
      'CheXpert-v1.0-small/train/patient00002/study1/view2_lateral.jpg,Female,83,Lateral,,,,,1.0,,,-1.0,,,,,,1.0,'].join('\n') + '\n');
    expect(readLabelled('chexpert', path.join(root, 'train.csv')).dropped).toEqual([{ reason: 'lateral view (frontal only)', count: 1 }]);
    expect(readLabelled('chexpert', path.join(root, 'train.csv'), { frontalOnly: false }).dropped).toBeUndefined();
  });
});

describe('chest labels aligned across datasets', () => {
  it('masks a finding a dataset lacks for every item, out of the loss and the AUC (torchxrayvision\'s relabel_dataset)', () => {
    // A dataset with no edema label (as PadChest-style label sets may lack one of the five), two items.
    const names = { ...CHEST_LABEL_MAP['nih-chestxray14'], Edema: null };
    const items = [(n: string) => (n === 'Effusion' ? 1 : 0), (n: string) => (n === 'Atelectasis' ? -1 : 0)];
    const { targets, mask } = alignFindings(names, items, { Atelectasis: 'ignore' });
    expect(Array.from(targets)).toEqual([0, 0, 0, 0, 1, 0, 0, 0, 0, 0]);
    expect(Array.from(mask!)).toEqual([1, 1, 1, 0, 1, 0, 1, 1, 0, 1]);
    expect(alignFindings(CHEST_LABEL_MAP['mimic-cxr'], [() => 1], {}).mask).toBeUndefined();
  });
});

describe('RSNA Pneumonia', () => {
  const root = path.join(dir, 'rsna');
  const ids = ['0004cfab-14fd-4e49-80ba-63a80b6bddd6', '00436515-870c-4b36-a041-de91049b9ab4', '00704310-78a8-4b38-8475-49f4573b2dbb', '00569f44-917d-4c86-a842-81832af98c30'];
  beforeAll(() => {
    write(path.join(root, 'stage_2_train_labels.csv'), ['patientId,x,y,width,height,Target', `${ids[0]},,,,,0`,
      `${ids[1]},264.0,152.0,213.0,379.0,1`, `${ids[1]},562.0,152.0,256.0,453.0,1`, `${ids[2]},323.0,577.0,160.0,104.0,1`, `${ids[2]},695.0,575.0,162.0,137.0,1`, `${ids[3]},,,,,0`].join('\n') + '\n');
  });

  it('reads one image label per patient from several box rows, with stage_2_train_images/<patientId>.dcm paths', () => {
    const set = readRsnaPneumonia(root);
    expect(set).toMatchObject({ format: 'rsna-pneumonia', task: 'binary', labels: ['Pneumonia'], groups: ids });
    expect(Array.from(set.targets)).toEqual([0, 1, 1, 0]);
    expect(files(set)).toEqual(ids.map((id) => path.join(root, 'stage_2_train_images', `${id}.dcm`)));
    expect(set.where[2]).toBe(`${path.join(root, 'stage_2_train_labels.csv')} row 5 (${path.join('stage_2_train_images', `${ids[2]}.dcm`)})`);
    expect(detectFormat(root)).toBe('rsna-pneumonia');
    expectPatientLevel(set);
  });

  it('refuses rows of one patient that disagree, a positive without a box and a bad Target, by file and row', () => {
    const csv = path.join(dir, 'rsna-bad.csv');
    write(csv, `patientId,x,y,width,height,Target\n${ids[1]},264.0,152.0,213.0,379.0,1\n${ids[1]},,,,,0\n`);
    expect(() => readRsnaPneumonia(csv)).toThrow(`${csv} row 3 (${path.join('stage_2_train_images', `${ids[1]}.dcm`)}): Target 0, but row 2 gives ${ids[1]} Target 1`);
    write(csv, `patientId,x,y,width,height,Target\n${ids[1]},,,,,1\n`);
    expect(() => readRsnaPneumonia(csv)).toThrow('row 2 (');
    write(csv, `patientId,x,y,width,height,Target\n${ids[1]},,,,,yes\n`);
    expect(() => readRsnaPneumonia(csv)).toThrow('Target "yes" is not 0 or 1');
  });
});

describe('APTOS 2019, Messidor-2, IDRiD', () => {
  it('APTOS: train.csv with train_images/<id_code>.png; referable = diagnosis >= 2, grades kept', async () => {
    const root = path.join(dir, 'aptos2019-blindness-detection');
    const entries = [['000c1434d8d7', 2], ['001639a390f0', 4], ['0024cdab0c1e', 1], ['002c21358ce6', 0]] as const;
    write(path.join(root, 'train.csv'), 'id_code,diagnosis\n' + entries.map(([id, g]) => `${id},${g}`).join('\n') + '\n');
    for (const [id] of entries) await grey(path.join(root, 'train_images', `${id}.png`), id.charCodeAt(5));
    const set = readAptos2019(root);
    expect(Array.from(set.targets)).toEqual([1, 1, 0, 0]);
    expect(set.grades).toEqual([2, 4, 1, 0]);
    expect(files(set)[0]).toBe(path.join(root, 'train_images', '000c1434d8d7.png'));
    expect(detectFormat(root)).toBe('aptos2019');
    expectPatientLevel(set);
    // The grade target: the same items as five classes, the grade the class, referable DR derived from grade 2 up.
    const graded = readLabelled('aptos2019', root, { target: 'grade' });
    expect(graded).toMatchObject({ task: 'multiclass', labels: DR_GRADES, referableFrom: 2, inputs: set.inputs, groups: set.groups });
    expect(Array.from(graded.targets)).toEqual([2, 4, 1, 0]);
    expect(set.dropped).toBeUndefined();
    write(path.join(root, 'bad.csv'), 'id_code,diagnosis\n000c1434d8d7,5\n');
    expect(() => readAptos2019(path.join(root, 'bad.csv'))).toThrow(`${path.join(root, 'bad.csv')} row 2 (${path.join('train_images', '000c1434d8d7.png')}): diagnosis "5" is not a grade 0-4`);
  });

  it('Messidor-2: messidor_data.csv with IMAGES/ (case as on disk), ungradable left out, exams from messidor-2.csv kept together', async () => {
    const root = path.join(dir, 'messidor-2');
    write(path.join(root, 'messidor_data.csv'), 'image_id,adjudicated_dr_grade,adjudicated_dme,adjudicated_gradable\n20051020_43808_0100_PP.png,0,0,1\n20051020_43832_0100_PP.png,3,1,1\n' +
      'IM002385.jpg,2,0,1\nIM002386.jpg,1,0,1\nIM004176.jpg,,,0\n');
    write(path.join(root, 'messidor-2.csv'), 'left;right\n20051020_43808_0100_PP.png;20051020_43832_0100_PP.png\nIM002385.JPG;IM002386.JPG\n');
    for (const [k, f] of ['20051020_43808_0100_PP.png', '20051020_43832_0100_PP.png', 'IM002385.JPG', 'IM002386.JPG'].entries()) await grey(path.join(root, 'IMAGES', f), k);
    const set = readMessidor2(root);
    expect(set.grades).toEqual([0, 3, 2, 1]);
    expect(set.dropped).toEqual([{ reason: 'ungradable (adjudicated_gradable 0)', count: 1 }]);
    expect(readLabelled('messidor2', root, { target: 'grade' }).dropped).toEqual(set.dropped);
    expect(Array.from(set.targets)).toEqual([0, 1, 1, 0]);
    expect(files(set)[2]).toBe(path.join(root, 'IMAGES', 'IM002385.JPG'));
    expect(new Set(set.groups).size).toBe(2);
    expect(detectFormat(root)).toBe('messidor2');
    expectPatientLevel(set);
    write(path.join(root, 'escape.csv'), 'image_id,adjudicated_dr_grade,adjudicated_dme,adjudicated_gradable\n../../../etc/passwd,0,0,1\n');
    expect(() => readMessidor2(path.join(root, 'escape.csv'))).toThrow(/escape\.csv row 2 .*: image_id: "[^"]*etc\/passwd" points outside/);
  });

  it('IDRiD: the training and testing grading CSVs (trailing-space column, empty trailing columns) as the split', async () => {
    const root = path.join(dir, 'IDRiD', 'B. Disease Grading');
    const labels = (set: string) => path.join(root, '2. Groundtruths', `${set}. IDRiD_Disease Grading_${set === 'a' ? 'Training' : 'Testing'} Labels.csv`);
    write(labels('a'), 'Image name,Retinopathy grade,Risk of macular edema ,,,,,,,,\nIDRiD_001,3,2,,,,,,,,\nIDRiD_002,0,0,,,,,,,,\nIDRiD_003,2,2,,,,,,,,\n,,,,,,,,,,\n');
    write(labels('b'), 'Image name,Retinopathy grade,Risk of macular edema \nIDRiD_001,4,2\nIDRiD_002,1,0\n');
    for (const n of ['001', '002', '003']) await grey(path.join(root, '1. Original Images', 'a. Training Set', `IDRiD_${n}.jpg`), Number(n));
    for (const n of ['001', '002']) await grey(path.join(root, '1. Original Images', 'b. Testing Set', `IDRiD_${n}.jpg`), 10 + Number(n));
    const set = readIdrid(path.dirname(root));
    expect(set.grades).toEqual([3, 0, 2, 4, 1]);
    expect(Array.from(set.targets)).toEqual([1, 0, 1, 1, 0]);
    expect(set.splits).toEqual({ train: [0, 1, 2], val: [3, 4] });
    expect(files(set)[3]).toBe(path.join(root, '1. Original Images', 'b. Testing Set', 'IDRiD_001.jpg'));
    expect(readIdrid(root).inputs).toHaveLength(5);
    expect(Array.from(readLabelled('idrid', root, { target: 'grade' }).targets)).toEqual([3, 0, 2, 4, 1]);
    expect(detectFormat(path.dirname(root))).toBe('idrid');
    expectPatientLevel(set);
  });
});

describe('a 16-bit PNG (PadChest-style)', () => {
  it('is windowed from its 16-bit values (as PIL and numpy read them), not cut to its top 8 bits', async () => {
    const file = path.join(dir, 'padchest', '216840111366964012283393834152009033102258826_a8rwmp.png');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // A radiograph in 12 of its 16 bits: values 1000-4000 (4095 would be white), one bright marker pixel.
    const values = Uint16Array.from({ length: 24 * 24 }, (_, i) => (i === 100 ? 4095 : 1000 + ((i * 53) % 3001)));
    await sharp(values, { raw: { width: 24, height: 24, channels: 1 } }).toColourspace('grey16').png().toFile(file);
    const python = JSON.parse(runFixture('dataset_labels.py', ['png16', file])) as { mode: string; min: number; max: number; low: number; high: number; windowed: number[] };
    expect(python.mode).toMatch(/^I/);  // PIL read 16 bits
    expect([python.min, python.max]).toEqual([1000, 4095]);
    const out = path.join(dir, 'padchest.u8');
    const decoded = await decodeToFile([{ file }], { size: 24 }, out, () => file);
    expect(decoded.kept).toEqual([0]);
    const row = fs.readFileSync(out);
    const plane = 24 * 24;
    expect(Array.from(row.subarray(0, plane))).toEqual(python.windowed);  // the red plane; grey: all three equal
    expect(Array.from(row.subarray(plane, 2 * plane))).toEqual(python.windowed);
    expect(Math.max(...row)).toBe(255);  // the top 8 bits of 4095 would be 15
  });
});

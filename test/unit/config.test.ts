import * as fs from 'node:fs';
import * as path from 'node:path';

import { loadStudyConfig, STUDY_CONFIG_SCHEMA } from '../../src/experiments/config';
import { experimentSpec } from '../../src/experiments/catalog';
import { tempDir } from '../helpers/tmp';

const dir = tempDir('config');
const write = (name: string, content: unknown) => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
};

describe('study files (run --config)', () => {
  it('expands an experiment at a preset with fields overridden, nested objects merged and arrays replaced', () => {
    const file = write('my-study.json', {
      experiment: 'transfusion',
      preset: 'tiny',
      models: ['cbr-small'],
      seeds: [3, 4],
      train: { steps: 12, schedule: { lr: 0.01 } },
      task: { trainSize: 300 },
    });
    const spec = loadStudyConfig(file);
    const base = experimentSpec('transfusion', 'tiny');
    expect(spec.name).toBe('my-study');
    expect(spec.experiment).toBe('transfusion');
    expect(spec.seeds).toEqual([3, 4]);
    expect(spec.train.steps).toBe(12);
    expect(spec.train.schedule).toEqual({ ...base.train.schedule, lr: 0.01 });
    expect(spec.train.batchSize).toBe(base.train.batchSize);
    expect(spec.task).toEqual({ ...base.task, trainSize: 300 });
    expect(spec.arms!.length).toBeGreaterThan(0);
    expect(new Set(spec.arms!.map((a) => a.model))).toEqual(new Set(['cbr-small']));
  });

  it('resolves a dataset path against the file\'s folder', () => {
    const file = write('data-study.json', { task: { source: 'files', data: { path: 'eyepacs', format: 'eyepacs' } }, weights: { ResNet50: 'w/r50.pth' } });
    const spec = loadStudyConfig(file);
    expect(spec.task.data!.path).toBe(path.join(dir, 'eyepacs'));
    expect(spec.weights).toEqual({ resnet50: path.join(dir, 'w/r50.pth') });
  });

  it('names the file and every wrong field', () => {
    const file = write('bad.json', { experiment: 'table9', train: { steps: 1.5, optimiser: 'sgd' }, seeds: [], task: { data: { format: 'dicom' } } });
    let message = '';
    try {
      loadStudyConfig(file);
    } catch (err) {
      expect((err as { code: string }).code).toBe('ERR_INVALID_ARG');
      message = (err as Error).message;
    }
    expect(message).toContain(`${file} does not describe a study:`);
    expect(message).toContain('/experiment must be one of "table1", "chexpert"');
    expect(message).toContain('/train/steps must be integer');
    expect(message).toContain('/train: unknown field "optimiser"');
    expect(message).toContain('/seeds must NOT have fewer than 1 items');
    expect(message).toContain("/task/data must have required property 'path'");
    expect(message).toContain('/task/data/format must be one of "eyepacs", "chexpert", "medmnist", "folder", "fashion-mnist"');
  });

  it('names a file that is missing or not JSON', () => {
    expect(() => loadStudyConfig(path.join(dir, 'none.json'))).toThrow(`Cannot read the study file ${path.join(dir, 'none.json')}`);
    const broken = write('broken.json', '{"models": [');
    expect(() => loadStudyConfig(broken)).toThrow(`${broken} is not valid JSON`);
  });

  it('publishes its schema with every top-level field of a spec', () => {
    expect(Object.keys(STUDY_CONFIG_SCHEMA.properties)).toEqual(expect.arrayContaining(['experiment', 'preset', 'models', 'inits', 'arms', 'seeds', 'task', 'train', 'pretrain', 'weights', 'imageSizes']));
  });
});

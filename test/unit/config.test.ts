import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { loadStudyConfig, STUDY_CONFIG_SCHEMA } from '../../src/experiments/config';
import { experimentSpec } from '../../src/experiments/catalog';
import { validateSpec } from '../../src/experiments/spec';
import { LIMITS } from '../../src/limits';
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

  it('takes the DICOM frame and window of a dataset, and names a wrong one', () => {
    const ok = write('dicom-study.json', { task: { source: 'files', data: { path: 'ct', dicom: { frame: 3, window: { center: -600, width: 1500 } } } }, pretrain: { source: 'files', data: { path: 'p', dicom: { window: 'auto' } } } });
    const spec = loadStudyConfig(ok);
    expect(spec.task.data!.dicom).toEqual({ frame: 3, window: { center: -600, width: 1500 } });
    expect(spec.pretrain.data!.dicom).toEqual({ window: 'auto' });
    const bad = write('dicom-bad.json', { task: { source: 'files', data: { path: 'ct', dicom: { frame: -1, window: { center: 40, width: 0 }, frames: 2 } } } });
    expect(() => loadStudyConfig(bad)).toThrow('/task/data/dicom/frame must be >= 0');
    expect(() => loadStudyConfig(bad)).toThrow('/task/data/dicom: unknown field "frames"; did you mean "frame"?');
    expect(() => loadStudyConfig(bad)).toThrow('/task/data/dicom/window/width must be > 0');
    // A spec given whole (runStudy(spec)) is checked by validateSpec, naming the field.
    const whole = { ...experimentSpec('table1', 'tiny'), task: { ...experimentSpec('table1', 'tiny').task, source: 'files' as const, data: { path: dir, dicom: { window: { center: 1, width: -2 } } } } };
    expect(() => validateSpec(whole)).toThrow('Expected `task.data.dicom.window.width` to be a number in [5e-324, 1000000000000] but received -2');
    whole.task.data.dicom = { window: 'middle' } as never;
    expect(() => validateSpec(whole)).toThrow('Expected `task.data.dicom.window` to be "auto" or { center, width } but received "middle"');
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

  it('holds a learning rate and steps to the one table of limits, in the file and in a spec given whole', () => {
    const file = write('lr.json', { train: { steps: 20_000_000, schedule: { lr: 500 } } });
    expect(() => loadStudyConfig(file)).toThrow(/\/train\/steps must be <= 10000000[\s\S]*\/train\/schedule\/lr must be <= 100/);
    const spec = experimentSpec('table1', 'tiny');
    spec.train.schedule = { ...spec.train.schedule, lr: 500 };
    // Refused by validateSpec, before any data are drawn or models pretrained, naming where the value sits.
    expect(() => validateSpec(spec)).toThrow('Expected `train.schedule.lr` to be a number in [0, 100] but received 500');
    const warm = experimentSpec('table1', 'tiny');
    warm.pretrain.schedule = { ...warm.pretrain.schedule, warmupSteps: warm.pretrain.steps + 1 };
    expect(() => validateSpec(warm)).toThrow(/^Expected `pretrain\.schedule\.warmupSteps` to be an integer in \[0, \d+\]/);
    expect(STUDY_CONFIG_SCHEMA.properties.train.properties.steps).toMatchObject({ type: 'integer', minimum: LIMITS.steps.min, maximum: LIMITS.steps.max });
  });

  it('takes the analyses\' cost settings, and names a bad one in the file and in a spec given whole', () => {
    const file = write('costs.json', { experiment: 'criticality', preset: 'tiny', representations: { criticalitySamples: 0, criticalityImages: 1.5 } });
    expect(() => loadStudyConfig(file)).toThrow(/\/representations\/criticalitySamples must be >= 1[\s\S]*\/representations\/criticalityImages must be integer/);
    const spec = experimentSpec('criticality', 'tiny');
    expect(spec.representations).toMatchObject({ interpolationBnBatches: 2, criticalitySamples: 2, criticalityImages: 64 });
    expect(experimentSpec('criticality', 'quick').representations).not.toHaveProperty('criticalitySamples');
    spec.representations!.criticalitySamples = 101;
    expect(() => validateSpec(spec)).toThrow('Expected `representations.criticalitySamples` to be an integer in [1, 100] but received 101');
  });

  it('names a file that is missing or not JSON', () => {
    expect(() => loadStudyConfig(path.join(dir, 'none.json'))).toThrow(`Cannot read the study file ${path.join(dir, 'none.json')}`);
    // A FIFO (or a device) is refused at once instead of blocking the process.
    const fifo = path.join(dir, 'fifo.json');
    execFileSync('mkfifo', [fifo]);
    expect(() => loadStudyConfig(fifo)).toThrow(`Cannot read the study file ${fifo}: ${fifo} is a FIFO, not a regular file`);
    expect(() => loadStudyConfig('/dev/zero')).toThrow('/dev/zero is a device, not a regular file');
    const broken = write('broken.json', '{"models": [');
    expect(() => loadStudyConfig(broken)).toThrow(`${broken} is not valid JSON`);
  });

  it('refuses a field given as null (optional means absent), and publishes no `nullable` keyword', () => {
    const file = write('nulls.json', { why: null, train: { schedule: null } });
    expect(() => loadStudyConfig(file)).toThrow(/\/why must be string[\s\S]*\/train\/schedule must be object/);
    expect(JSON.stringify(STUDY_CONFIG_SCHEMA)).not.toContain('nullable');
  });

  it('publishes its schema with every top-level field of a spec', () => {
    expect(Object.keys(STUDY_CONFIG_SCHEMA.properties)).toEqual(expect.arrayContaining(['experiment', 'preset', 'models', 'inits', 'arms', 'seeds', 'task', 'train', 'pretrain', 'weights', 'imageSizes']));
  });

  it('describes every field, so an editor shows help while a study file is written', () => {
    const missing: string[] = [];
    interface Node { description?: string; properties?: Record<string, Node> }
    const walk = (schema: Node, at: string) => {
      for (const [key, sub] of Object.entries(schema.properties ?? {})) {
        if (!sub.description) missing.push(`${at}${key}`);
        walk(sub, `${at}${key}.`);
      }
    };
    walk(STUDY_CONFIG_SCHEMA as never, '');
    expect(missing).toEqual([]);
    expect(STUDY_CONFIG_SCHEMA.properties.train.properties.schedule.properties.lr).toMatchObject({ description: 'Peak learning rate' });
  });
});

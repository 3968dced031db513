// `run --steps` and `run --lr`: the command line sets a study's training length and peak learning rate, held to the
// same limits as a study file.
import * as fs from 'node:fs';
import * as path from 'node:path';

import yargs from 'yargs';

import { experimentSpec } from '../../src/experiments/catalog';
import { joinSignedValues, runOptions, studySpecOf } from '../../src/cli/run-options';
import { tempDir } from '../helpers/tmp';

const specOf = async (argv: string[]) => studySpecOf(await runOptions(yargs(argv).exitProcess(false).fail((msg, err) => { throw err ?? new Error(msg); })).parse(), argv);

describe('run --steps and --lr', () => {
  it('set the runs\' steps and peak learning rate, leaving pretraining and the schedule\'s shape as they were', async () => {
    const base = experimentSpec('table1', 'tiny');
    const spec = await specOf(['--preset', 'tiny', '--steps', '7', '--lr', '0.02']);
    expect(spec.train.steps).toBe(7);
    expect(spec.train.schedule).toEqual({ ...base.train.schedule, lr: 0.02 });
    expect(spec.pretrain.steps).toBe(base.pretrain.steps);
    expect(spec.pretrain.schedule).toEqual(base.pretrain.schedule);
  });

  it('refuses values outside the limits, naming the flag', async () => {
    await expect(specOf(['--preset', 'tiny', '--lr', '500'])).rejects.toThrow('Expected `--lr` to be a number in [0, 100] but received 500');
    await expect(specOf(['--preset', 'tiny', '--steps', '0'])).rejects.toThrow('Expected `--steps` to be an integer in [1, 10000000] but received 0');
  });
});

describe('run --dicom-frame and --dicom-window', () => {
  const data = path.join(tempDir('run-options'), 'ct');
  beforeAll(() => fs.mkdirSync(path.join(data, 'a'), { recursive: true }));

  it('choose the frame and window of the DICOM files in --data and --pretrain-data', async () => {
    const spec = await specOf(['--preset', 'tiny', '--data', data, '--dicom-frame', '2', '--dicom-window=-600,1500', '--pretrain-data', data]);
    expect(spec.task.data!.dicom).toEqual({ frame: 2, window: { center: -600, width: 1500 } });
    expect(spec.pretrain.data!.dicom).toEqual({ frame: 2, window: { center: -600, width: 1500 } });
    expect((await specOf(['--preset', 'tiny', '--data', data, '--dicom-window=auto'])).task.data!.dicom).toEqual({ window: 'auto' });
    expect((await specOf(['--preset', 'tiny', '--data', data])).task.data!.dicom).toBeUndefined();
  });

  it('refuses a frame or window that is not one, naming the flag', async () => {
    await expect(specOf(['--preset', 'tiny', '--data', data, '--dicom-frame', '1.5'])).rejects.toThrow('Expected `--dicom-frame` to be an integer in [0, 65535] but received 1.5');
    // The command line joins a negative centre to its flag, which yargs would otherwise read as flags -6 -0 -0.
    const joined = joinSignedValues(['run', '--dicom-window', '-600,1500', '--steps', '-1', '--', '--dicom-window', '-1,2']);
    expect(joined).toEqual(['run', '--dicom-window=-600,1500', '--steps', '-1', '--', '--dicom-window', '-1,2']);
    for (const w of ['40', '40,0', '40,400,1', 'lung', '40,'])
      await expect(specOf(['--preset', 'tiny', '--data', data, `--dicom-window=${w}`])).rejects.toThrow(`Expected \`--dicom-window\` to be CENTER,WIDTH (numbers, WIDTH > 0; e.g. --dicom-window=40,400) or auto but received "${w}"`);
  });
});

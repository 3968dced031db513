// `run --steps` and `run --lr`: the command line sets a study's training length and peak learning rate, held to the
// same limits as a study file.
import yargs from 'yargs';

import { experimentSpec } from '../../src/experiments/catalog';
import { runOptions, studySpecOf } from '../../src/cli/run-options';

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

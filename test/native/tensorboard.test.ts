// TensorBoard scalars of a study (issue 31), read back by an independent reader written from the published record
// format in Python (test/fixtures/tfevents_reader.py: its own CRC-32C and protobuf decoding), not by our writer.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { crc32c } from '../../src/io/tensorboard';
import { runFixture } from '../helpers/python';
import { tempDir } from '../helpers/tmp';

const bin = path.resolve(__dirname, '../../bin/transfusion-native.js');
const dir = tempDir('tensorboard');

type Event = { wall_time: number; step: number; file_version?: string; values: Record<string, number> };

describe('TensorBoard event files', () => {
  it('computes CRC-32C as its published check value (RFC 3720: "123456789" -> 0xE3069283)', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);  // RFC 3720 B.4: 32 bytes of zeros
  });

  it('run --tensorboard DIR: one event file per run, every step\'s loss and lr and every evaluation\'s AUC, as results.json has them', () => {
    const out = path.join(dir, 'run'), board = path.join(dir, 'board');
    const r = spawnSync(process.execPath, [bin, 'run', '--preset', 'tiny', '--models', 'cbr-tiny', '--tensorboard', board, '--out', out, '--cache-dir', path.join(dir, 'cache'), '--quiet'],
      { encoding: 'utf8', env: { ...process.env, TRANSFUSION_THREADS: '2' } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const results = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));
    expect(results.runs.length).toBeGreaterThan(1);
    for (const run of results.runs) {
      const folder = path.join(board, 'cbr-tiny', run.init, `s${run.seed}`);
      const files = fs.readdirSync(folder);
      expect(files).toHaveLength(1);
      expect(files[0]).toMatch(/^events\.out\.tfevents\.\d+\./);
      const events = JSON.parse(runFixture('tfevents_reader.py', [path.join(folder, files[0])])) as Event[];
      expect(events[0]).toMatchObject({ file_version: 'brain.Event:2', step: 0 });
      const loss = events.filter((e) => 'train/loss' in e.values);
      expect(loss.map((e) => e.step)).toEqual(Array.from({ length: run.steps }, (_, i) => i + 1));
      expect(loss.at(-1)!.values['train/loss']).toBeCloseTo(run.finalLoss, 5);  // float32 in the file
      for (const e of loss) expect(e.values['train/lr']).toBeGreaterThan(0);
      const evals = events.filter((e) => 'val/auc' in e.values);
      expect(evals.map((e) => e.step)).toEqual(run.curve.map((p: { step: number }) => p.step));
      evals.forEach((e, i) => expect(e.values['val/auc']).toBeCloseTo(run.curve[i].auc, 5));
      for (const e of events) expect(e.wall_time).toBeGreaterThan(1.7e9);
    }
  }, 300_000);
});

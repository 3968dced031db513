import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

import { versions } from '../../src';

/** Debian's interpreter, which has python3-torch and python3-torchvision (the `python3` first on PATH may not). */
export const PYTHON = process.env.TRANSFUSION_TEST_PYTHON ?? '/usr/bin/python3';

/**
 * Runs a script from test/fixtures with PYTHON; fails the test with the script's stderr and the fix. The script learns
 * from TRANSFUSION_ONEDNN=0 that the addon switched oneDNN off on this CPU, and does the same.
 */
export function runFixture(script: string, args: string[]): string {
  const env = { ...process.env, TRANSFUSION_ONEDNN: versions().oneDnn ? '1' : '0' };
  const r = spawnSync(PYTHON, [path.join(__dirname, '..', 'fixtures', script), ...args], { encoding: 'utf8', env });
  if (r.status !== 0)
    throw new Error(
      `${PYTHON} test/fixtures/${script} failed (exit ${r.status}): ${r.stderr || r.error}\n` +
        'These tests need PyTorch and torchvision as an independent reference: apt-get install python3-torch python3-torchvision',
    );
  return r.stdout;
}

import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

import { peerEnvironment } from '../../src/runtime';

/** Debian's interpreter, which has python3-torch and python3-torchvision (the `python3` first on PATH may not). */
export const PYTHON = process.env.TRANSFUSION_TEST_PYTHON ?? '/usr/bin/python3';

/**
 * Runs a script from test/fixtures with PYTHON; fails the test with the script's stderr and the fix. The script's
 * PyTorch runs with the addon's cap on oneDNN, where it set one.
 */
export function runFixture(script: string, args: string[]): string {
  const r = spawnSync(PYTHON, [path.join(__dirname, '..', 'fixtures', script), ...args], { encoding: 'utf8', env: peerEnvironment() });
  if (r.status !== 0)
    throw new Error(
      `${PYTHON} test/fixtures/${script} failed (exit ${r.status}): ${r.stderr || r.error}\n` +
        'These tests need PyTorch and torchvision as an independent reference: apt-get install python3-torch python3-torchvision',
    );
  return r.stdout;
}

import * as os from 'node:os';

import { loadAddon, NATIVE_EXPORTS } from '../../bindings/native';
import { getThreads } from '../../src';

describe('the typed bindings', () => {
  it('list exactly the functions the addon exports', () => {
    expect(Object.keys(loadAddon()).sort()).toEqual([...NATIVE_EXPORTS].sort());
  });

  it('report the LibTorch version the addon was built against', () => {
    expect(loadAddon().version().torch).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("set LibTorch's thread count to the available cores by default (Debian's LibTorch would use 1)", () => {
    delete process.env.TRANSFUSION_THREADS;
    expect(getThreads()).toBe(os.availableParallelism());
  });
});

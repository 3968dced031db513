import { loadAddon, NATIVE_EXPORTS } from '../../bindings/native';

describe('the typed bindings', () => {
  it('list exactly the functions the addon exports', () => {
    expect(Object.keys(loadAddon()).sort()).toEqual([...NATIVE_EXPORTS].sort());
  });

  it('report the LibTorch version the addon was built against', () => {
    expect(loadAddon().version().torch).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

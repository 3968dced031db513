/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: { types: ['node', 'jest'] }, diagnostics: { warnOnly: false } }] },
  testTimeout: 120000,
  // Native tests share LibTorch's thread pool; running test files one at a time keeps timings and determinism sane.
  maxWorkers: 1,
};

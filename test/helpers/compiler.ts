import { spawnSync } from 'node:child_process';

/** Whether `compiler` compiles C++20 (`-std=c++20` and a `__cplusplus` of 202002L or later). */
export function hasCxx20(compiler = 'c++'): boolean {
  const probe = spawnSync(compiler, ['-std=c++20', '-x', 'c++', '-fsyntax-only', '-'], { input: '#if __cplusplus < 202002L\n#error\n#endif\n', encoding: 'utf8' });
  return probe.status === 0;
}

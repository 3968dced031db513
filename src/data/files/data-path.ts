// A dataset argument as the CLI takes it: a path, or "fashion-mnist" for Debian's installed copy.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { TransfusionError } from '../../errors';

/** Where Debian's dataset-fashion-mnist package puts the idx files (`--pretrain-data fashion-mnist`). */
export const DEBIAN_FASHION_MNIST = '/usr/share/datasets/fashion-mnist';

/** A dataset argument: a path, or "fashion-mnist" for Debian's installed copy. */
export function resolveDataPath(arg: string, option: string): string {
  if (arg !== 'fashion-mnist' || fs.existsSync(arg)) return path.resolve(arg);
  if (!fs.existsSync(DEBIAN_FASHION_MNIST))
    throw new TransfusionError('ERR_INVALID_ARG', `${option} fashion-mnist: ${DEBIAN_FASHION_MNIST} is missing; apt-get install dataset-fashion-mnist, or give the folder holding the idx files`);
  return DEBIAN_FASHION_MNIST;
}

// TensorBoard scalar event files (issue 31), written by hand from the published format, so no TensorFlow or protobuf
// package is needed: each file is a sequence of records
//   uint64 length (little-endian) | uint32 masked CRC-32C of the length | data | uint32 masked CRC-32C of the data
// whose data is a serialised tensorflow.Event: wall_time (field 1, double), step (2, int64), file_version (3, string,
// the first record's "brain.Event:2") or summary (5: Summary { repeated Value value = 1 }, Value { tag = 1, simple_value
// = 2 (float) }). The CRC is Castagnoli's, masked as TensorFlow's ((crc >>> 15 | crc << 17) + 0xa282ead8).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import type { StudyEvent } from '../experiments/results';
import { makeDirectory } from './mkdir';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32C (Castagnoli) of `bytes`. */
export function crc32c(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
const masked = (crc: number) => (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0;

function varint(value: number | bigint): number[] {
  let v = BigInt(value);
  if (v < 0n) v += 1n << 64n;  // int64 two's complement, as protobuf encodes a negative int64
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v) byte |= 0x80;
    out.push(byte);
  } while (v);
  return out;
}
const field = (number: number, wire: number) => varint((number << 3) | wire);
const bytesField = (number: number, body: Uint8Array) => Uint8Array.from([...field(number, 2), ...varint(body.length), ...body]);
function fixed(number: number, value: number, kind: 'double' | 'float'): Uint8Array {
  const b = Buffer.alloc(kind === 'double' ? 8 : 4);
  if (kind === 'double') b.writeDoubleLE(value);
  else b.writeFloatLE(value);
  return Uint8Array.from([...field(number, kind === 'double' ? 1 : 5), ...b]);
}
const concat = (parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

/** A serialised Event: its wall time, step, and a file version or scalars. */
export function eventBytes(wallTime: number, step: number, content: { fileVersion: string } | { scalars: Record<string, number> }): Uint8Array {
  const parts = [fixed(1, wallTime, 'double'), Uint8Array.from([...field(2, 0), ...varint(step)])];
  if ('fileVersion' in content) parts.push(bytesField(3, Buffer.from(content.fileVersion, 'utf8')));
  else {
    const values = Object.entries(content.scalars).map(([tag, v]) => bytesField(1, concat([bytesField(1, Buffer.from(tag, 'utf8')), fixed(2, v, 'float')])));
    parts.push(bytesField(5, concat(values)));
  }
  return concat(parts);
}

/** One record of an event file around `data`. */
export function record(data: Uint8Array): Buffer {
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(data.length));
  const head = Buffer.alloc(4), tail = Buffer.alloc(4);
  head.writeUInt32LE(masked(crc32c(length)));
  tail.writeUInt32LE(masked(crc32c(data)));
  return Buffer.concat([length, head, Buffer.from(data), tail]);
}

/** An event file being written: scalars appended as they come, flushed on each write (a crash loses nothing written). */
export class EventFile {
  private readonly fd: number;
  readonly file: string;
  constructor(dir: string) {
    makeDirectory(dir, 'the TensorBoard folder');
    const now = Date.now() / 1000;
    this.file = path.join(dir, `events.out.tfevents.${Math.floor(now)}.${os.hostname()}.${process.pid}`);
    this.fd = fs.openSync(this.file, 'wx');  // never over a file that is there
    fs.writeSync(this.fd, record(eventBytes(now, 0, { fileVersion: 'brain.Event:2' })));
  }
  scalars(step: number, values: Record<string, number>): void {
    const finite = Object.fromEntries(Object.entries(values).filter(([, v]) => Number.isFinite(v)));
    if (Object.keys(finite).length) fs.writeSync(this.fd, record(eventBytes(Date.now() / 1000, step, { scalars: finite })));
  }
  close(): void {
    fs.closeSync(this.fd);
  }
}

/**
 * A study's progress as TensorBoard scalars under `dir`: one folder per run (MODEL/INIT/sSEED, so TensorBoard's run
 * selector groups them by model and initialisation), with train/loss and train/lr per step and val/auc (val/top1
 * for a multiclass task) per evaluation. Returns the listener to call with each study event, and close().
 */
export function tensorboardSink(dir: string): { onEvent: (e: StudyEvent) => void; close: () => void } {
  const open = new Map<number, EventFile>();
  const name = (s: string) => s.replace(/[^A-Za-z0-9_.-]/g, '_');
  return {
    onEvent(e) {
      if (e.kind === 'run-start') open.set(e.index, new EventFile(path.join(dir, name(e.model), name(e.init), `s${e.seed}`)));
      else if (e.kind === 'train' && e.phase === 'run') {
        const w = open.get(e.index), t = e.event;
        if (!w) return;
        if (t.kind === 'step') w.scalars(t.step, { 'train/loss': t.loss, 'train/lr': t.lr });
        else if (t.kind === 'eval') w.scalars(t.step, { ...(t.loss !== null ? { 'val/loss': t.loss } : {}), ...(t.auc != null ? { 'val/auc': t.auc } : {}), ...(t.top1 !== undefined ? { 'val/top1': t.top1 } : {}) });
      } else if (e.kind === 'run-end') {
        open.get(e.index)?.close();
        open.delete(e.index);
      }
    },
    close() {
      for (const w of open.values()) w.close();
      open.clear();
    },
  };
}

// The DICOM decoding worker (worker_threads): decodes the files its pool posts, one at a time, with its own codecs
// (each WebAssembly module instantiated here once, on first use), and posts the pixels back by transfer, not copy.
import { parentPort } from 'node:worker_threads';

import { decodeDicom, type DicomReadOptions } from './dicom-decode';

/** A job: decode `file`; "full" returns the DicomImage, "display8" only its display pixels as 8-bit for sharp. */
export interface DicomJob { id: number; file: string; options: DicomReadOptions; output: 'full' | 'display8' }

parentPort?.on('message', (job: DicomJob) => {
  decodeDicom(job.file, job.options).then(
    (image) => {
      if (job.output === 'full') {
        parentPort!.postMessage({ id: job.id, image }, [image.stored.buffer, image.display.buffer, ...(image.values !== image.stored ? [image.values.buffer] : [])] as ArrayBuffer[]);
        return;
      }
      // [0, 1] display values to 8 bits, rounded: what sharp resizes and normalises as it does every other image.
      const pixels = new Uint8Array(image.display.length);
      for (let i = 0; i < pixels.length; i++) pixels[i] = Math.round(image.display[i] * 255);
      parentPort!.postMessage({ id: job.id, pixels: { pixels, width: image.width, height: image.height, channels: image.channels } }, [pixels.buffer]);
    },
    (err: Error & { code?: string }) => parentPort!.postMessage({ id: job.id, error: { code: err.code, message: err.message } }),
  );
});

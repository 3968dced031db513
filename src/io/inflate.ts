// What a deflate stream of a given size can inflate to: DEFLATE's longest match (258 bytes) in a 2-bit code gives at
// most 1032 output bytes per input byte; gzip's and zip's headers add a few bytes more. A size declared beyond this is
// a lie the reader refuses before inflating anything, so what a compressed file makes us allocate is bounded by the
// file's real size.

/** Deflate's largest ratio of output to input bytes. */
export const DEFLATE_MAX_RATIO = 1032;

/**
 * The most bytes `compressed` bytes of a deflate (or gzip) stream can inflate to.
 * @param compressed - The stream's size in bytes.
 * @returns An upper bound on its inflated size.
 */
export function inflateBound(compressed: number): number {
  return compressed * DEFLATE_MAX_RATIO + 1024;
}

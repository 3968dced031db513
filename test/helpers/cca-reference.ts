// A small, plain TypeScript CCA/CKA (ml-matrix), independent of the native engine: centre, orthonormal bases from
// the SVD, canonical correlations as the singular values of Qa^T Qb. For cross-checks on random inputs.
import { Matrix, SingularValueDecomposition } from 'ml-matrix';

function centred(rows: number[][]): Matrix {
  const m = new Matrix(rows);
  const means = m.mean('column');
  return m.subRowVector(means);
}

function basis(x: Matrix): Matrix {
  const svd = new SingularValueDecomposition(x, { autoTranspose: true });
  const s = svd.diagonal;
  const rank = s.filter((v) => v > 1e-10 * s[0]).length;
  return svd.leftSingularVectors.subMatrix(0, x.rows - 1, 0, rank - 1);
}

export function referenceCca(a: number[][], b: number[][]): { coefficients: number[]; mean: number; linearCka: number } {
  const x = centred(a), y = centred(b);
  const m = basis(x).transpose().mmul(basis(y));
  const coefficients = new SingularValueDecomposition(m, { autoTranspose: true }).diagonal.slice(0, Math.min(m.rows, m.columns)).sort((p, q) => q - p);
  const fro2 = (mm: Matrix) => mm.to1DArray().reduce((s, v) => s + v * v, 0);
  const linearCka = fro2(y.transpose().mmul(x)) / Math.sqrt(fro2(x.transpose().mmul(x)) * fro2(y.transpose().mmul(y)));
  return { coefficients, mean: coefficients.reduce((s, v) => s + v, 0) / coefficients.length, linearCka };
}

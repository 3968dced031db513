import { Matrix, inverse } from 'ml-matrix';

import { auc, generateNatural, generateRetina } from '../../src';

describe('the embedded RETINA-like generator', () => {
  it('is deterministic under a seed', async () => {
    const [a, b, c] = await Promise.all([1, 1, 2].map((seed) => generateRetina({ count: 64, size: 32, seed })));
    expect(Array.from(a.meanColour())).toEqual(Array.from(b.meanColour()));
    expect(Array.from(a.grades())).toEqual(Array.from(b.grades()));
    expect(Array.from(a.meanColour())).not.toEqual(Array.from(c.meanColour()));
    [a, b, c].forEach((d) => d.dispose());
  });

  it('draws grades with the requested distribution and labels referable = grade >= 2', async () => {
    const d = await generateRetina({ count: 4000, size: 16, seed: 3 });
    const grades = Array.from(d.grades());
    const targets = Array.from(d.targets());
    const expected = [0.45, 0.1, 0.25, 0.12, 0.08];
    expected.forEach((p, g) => {
      const observed = grades.filter((x) => x === g).length / grades.length;
      expect(Math.abs(observed - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / grades.length));
    });
    grades.forEach((g, i) => expect(targets[i]).toBe(g >= 2 ? 1 : 0));
    expect(d.info()).toEqual({ source: 'retina', task: 'binary', count: 4000, channels: 3, height: 16, width: 16, outputs: 1 });
    d.dispose();

    const skewed = await generateRetina({ count: 1000, size: 16, seed: 3, gradeWeights: [1, 0, 0, 0, 1] });
    expect(new Set(skewed.grades())).toEqual(new Set([0, 4]));
    skewed.dispose();
  });

  it('is not solved by a linear model on mean colour', async () => {
    const [train, test] = await Promise.all([generateRetina({ count: 1500, size: 40, seed: 10 }), generateRetina({ count: 500, size: 40, seed: 11 })]);
    // Least-squares linear probe on [1, r, g, b] (the best linear fit of the label), scored on held-out images.
    const features = (d: typeof train) => {
      const m = d.meanColour();
      return new Matrix(Array.from({ length: d.count }, (_, i) => [1, m[3 * i], m[3 * i + 1], m[3 * i + 2]]));
    };
    const X = features(train);
    const y = Matrix.columnVector(Array.from(train.targets()));
    const w = inverse(X.transpose().mmul(X)).mmul(X.transpose()).mmul(y);
    const scores = features(test).mmul(w).getColumn(0);
    const heldOut = auc(scores, Array.from(test.targets()));
    expect(heldOut).toBeLessThan(0.65);
    train.dispose();
    test.dispose();
  });

  it('names bad options', async () => {
    await expect(generateRetina({ count: -3 })).rejects.toThrow('Expected `count` to be a positive integer but received -3');
    await expect(generateRetina({ count: 4, size: 8 })).rejects.toThrow('Expected `size` to be an integer in [16, 1024] but received 8');
    await expect(generateRetina({ count: 4, gradeWeights: [1, 2] })).rejects.toThrow('Expected `gradeWeights` to be 5 non-negative numbers');
  });
});

describe('the embedded natural-image source', () => {
  it('draws every class, deterministically', async () => {
    const a = await generateNatural({ count: 600, size: 32, seed: 5, classes: 20 });
    const b = await generateNatural({ count: 600, size: 32, seed: 5, classes: 20 });
    expect(Array.from(a.targets())).toEqual(Array.from(b.targets()));
    expect(new Set(a.targets()).size).toBe(20);
    expect(a.info().task).toBe('multiclass');
    expect(a.info().outputs).toBe(20);
    a.dispose();
    b.dispose();
  });
});

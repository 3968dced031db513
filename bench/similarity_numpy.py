"""Peer for bench/similarity.js: canonical correlations the way google/svcca's get_cca_similarity computes them
(covariance of the stacked neurons, rescaled, near-constant neurons dropped, epsilon on the diagonal, pinv, the
positive-definite inverse square root, an SVD), written here in numpy for the benchmark; svcca's code is not copied.

  python3 similarity_numpy.py make DIR PAIRS N P      write DIR/a{k}.npy, DIR/b{k}.npy (float32, datapoints x neurons)
  python3 similarity_numpy.py time DIR PAIRS THREADS  time the batch; print JSON {"seconds", "mean_cca": [...]}
"""
import json
import os
import sys
import time


def cca(x, y, epsilon=1e-10):
    # x: (p, n), y: (q, n) neurons x datapoints, float64.
    p = x.shape[0]
    sigma = np.cov(np.concatenate([x, y], axis=0))
    sxx, sxy, syy = sigma[:p, :p], sigma[:p, p:], sigma[p:, p:]
    xmax, ymax = np.max(np.abs(sxx)), np.max(np.abs(syy))
    sxx, syy, sxy = sxx / xmax, syy / ymax, sxy / np.sqrt(xmax * ymax)
    keep_x, keep_y = np.abs(np.diag(sxx)) >= epsilon, np.abs(np.diag(syy)) >= epsilon
    sxx, syy, sxy = sxx[keep_x][:, keep_x], syy[keep_y][:, keep_y], sxy[keep_x][:, keep_y]
    sxx = sxx + epsilon * np.eye(sxx.shape[0])
    syy = syy + epsilon * np.eye(syy.shape[0])

    def inv_sqrt(m):
        w, v = np.linalg.eigh(np.linalg.pinv(m))
        return (v * np.sqrt(np.maximum(w, 0))) @ v.T

    s = np.linalg.svd(inv_sqrt(sxx) @ sxy @ inv_sqrt(syy), compute_uv=False)
    return s


def main():
    mode, folder, pairs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode == "make":
        n, p = int(sys.argv[4]), int(sys.argv[5])
        rng = np.random.default_rng(0)
        for k in range(pairs):
            a = rng.standard_normal((n, p)).astype(np.float32)
            mix = rng.standard_normal((p, p)).astype(np.float32) / np.sqrt(p)
            b = (a @ mix + 0.5 * rng.standard_normal((n, p))).astype(np.float32)
            np.save(os.path.join(folder, f"a{k}.npy"), a)
            np.save(os.path.join(folder, f"b{k}.npy"), b)
        return
    arrays = [(np.load(os.path.join(folder, f"a{k}.npy")), np.load(os.path.join(folder, f"b{k}.npy"))) for k in range(pairs)]
    start = time.perf_counter()
    means = [float(np.mean(cca(a.T.astype(np.float64), b.T.astype(np.float64)))) for a, b in arrays]
    print(json.dumps({"seconds": time.perf_counter() - start, "mean_cca": means, "blas": blas()}))


def blas():
    """Which BLAS numpy's products ran on: threadpoolctl's view where it is installed, else the BLAS library mapped
    into this process. `reference` is true for Debian's netlib BLAS (libblas3), ~15x slower than an optimised one."""
    try:
        from threadpoolctl import threadpool_info
        for info in threadpool_info():
            if info.get("user_api") == "blas":
                name = info.get("internal_api", "?")
                return {"name": name, "version": info.get("version"), "kernel": info.get("architecture"),
                        "threads": info.get("num_threads"), "path": info.get("filepath"), "reference": False}
    except ImportError:
        pass
    maps = set()
    with open("/proc/self/maps") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 6 and ("blas" in parts[5] or "mkl" in parts[5]):
                maps.add(os.path.realpath(parts[5]))
    names = sorted(maps)
    reference = any("/blas/libblas.so" in m for m in names) and not any("openblas" in m or "mkl" in m for m in names)
    return {"name": "netlib reference BLAS" if reference else ", ".join(os.path.basename(m) for m in names) or "?",
            "version": None, "kernel": None, "threads": None, "path": names[0] if names else None, "reference": reference}


if __name__ == "__main__":
    threads = sys.argv[4] if len(sys.argv) > 4 and sys.argv[1] == "time" else None
    if threads:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = threads
    import numpy as np  # after the thread settings, which BLAS reads at load

    main()

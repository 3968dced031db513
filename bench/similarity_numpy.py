"""Peer for bench/similarity.js: canonical correlations the way google/svcca's get_cca_similarity computes them
(covariance of the stacked neurons, rescaled, near-constant neurons dropped, epsilon on the diagonal, pinv, the
positive-definite inverse square root, an SVD), written here in numpy for the benchmark; svcca's code is not copied.

  python3 similarity_numpy.py make DIR PAIRS N P           write DIR/a{k}.npy, DIR/b{k}.npy (float32, datapoints x neurons)
  python3 similarity_numpy.py time DIR PAIRS THREADS       time the pairs; print JSON {"seconds", "mean_cca": [...], "blas"}
  python3 similarity_numpy.py time-procrustes DIR PAIRS THREADS   the orthogonal Procrustes distance of the same pairs
                                                           (Ding et al.: centred, unit Frobenius norm, the nuclear norm
                                                           of X^T Y from numpy's SVD): JSON {"seconds", "procrustes"}
  python3 similarity_numpy.py time-shape DIR PAIRS THREADS ALPHA   Williams et al.'s shape metric of the same pairs, as
                                                           netrep's LinearMetric(alpha) computes it (X^T X's eigenpairs,
                                                           X @ Z partially whitened, the SVD of Xw^T Yw): JSON
                                                           {"seconds", "shape"}
  python3 similarity_numpy.py time-rbf DIR PAIRS THREADS BANDWIDTH   RBF CKA of the same pairs as Kornblith et al.'s
                                                           notebook computes it (gram_rbf, center_gram, the HSIC
                                                           ratio): JSON {"seconds", "rbf"}
  python3 similarity_numpy.py make-shared DIR M L N P      write DIR/m{i}l{j}.npy: M models x L layers, a layer's
                                                           activations correlated across models
  python3 similarity_numpy.py time-shared DIR M L THREADS  time every pair of models at every layer, each activation
                                                           centred, multiplied and whitened once (the engine's reuse)
  python3 similarity_numpy.py time-shared-pairwise DIR M L THREADS   the same pairs, one get_cca_similarity-style call each
  python3 similarity_numpy.py gemm N P THREADS             the float64 GEMM rate X^T Y, (N, P) x (N, P), numpy's BLAS
                                                           and (where python3 has it) torch.mm: JSON GFLOP/s, best of 3
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
    s = np.linalg.svd(inv_sqrt(sxx) @ sxy @ inv_sqrt(syy), compute_uv=False)
    return s


def inv_sqrt(m):
    w, v = np.linalg.eigh(np.linalg.pinv(m))
    return (v * np.sqrt(np.maximum(w, 0))) @ v.T


def prepare(a, epsilon=1e-10):
    """One activation (n, p) float32 -> (centred live neurons float64, scale, the whitening map of its covariance):
    what cca() computes for each side, computed once for all the pairs the activation is in."""
    x = a.astype(np.float64)
    x -= x.mean(axis=0)
    sxx = (x.T @ x) / (x.shape[0] - 1)  # numpy runs X^T X as a symmetric product (syrk)
    xmax = np.max(np.abs(sxx))
    keep = np.abs(np.diag(sxx)) / xmax >= epsilon
    x = x[:, keep] if not keep.all() else x
    sxx = sxx[keep][:, keep] / xmax + epsilon * np.eye(int(keep.sum()))
    return x, xmax, inv_sqrt(sxx)


def cca_prepared(a, b):
    (x, xmax, wx), (y, ymax, wy) = a, b
    sxy = (x.T @ y) / (x.shape[0] - 1) / np.sqrt(xmax * ymax)
    return np.linalg.svd(wx @ sxy @ wy, compute_uv=False)


def procrustes(a, b):
    """Orthogonal Procrustes distance of (n, p) and (n, q) float32 activations, as Ding et al. define it."""
    x, y = a.astype(np.float64), b.astype(np.float64)
    x -= x.mean(axis=0)
    y -= y.mean(axis=0)
    nuclear = np.linalg.svd(x.T @ y, compute_uv=False).sum() / (np.linalg.norm(x) * np.linalg.norm(y))
    return float(np.sqrt(max(0.0, 2.0 - 2.0 * nuclear)))


def shape(a, b, alpha):
    """Williams et al.'s angular shape distance of (n, p) and (n, q) float32 activations, netrep's way."""
    sides = []
    for s in (a, b):
        x = s.astype(np.float64)
        x -= x.mean(axis=0)
        lam, v = np.linalg.eigh(x.T @ x)
        d = alpha + (1 - alpha) * np.maximum(lam, 1e-7) ** -0.5
        sides.append(x @ ((v * d[None, :]) @ v.T))
    x, y = sides
    nuclear = np.linalg.svd(x.T @ y, compute_uv=False).sum()
    return float(np.arccos(np.clip(nuclear / (np.linalg.norm(x) * np.linalg.norm(y)), -1.0, 1.0)))


def rbf_cka(a, b, bandwidth):
    """CKA of RBF kernels of (n, p) and (n, q) float32 activations, as Kornblith et al.'s notebook computes it."""
    def centred_kernel(s):
        x = s.astype(np.float64)
        dot = x @ x.T
        norms = np.diag(dot)
        distances = -2 * dot + norms[:, None] + norms[None, :]
        k = np.exp(-distances / (2 * bandwidth ** 2 * np.median(distances)))
        means = np.mean(k, 0)
        means -= np.mean(means) / 2
        return k - means[:, None] - means[None, :]
    k, l = centred_kernel(a), centred_kernel(b)
    return float(np.sum(k * l) / np.sqrt(np.sum(k * k) * np.sum(l * l)))


def shared_activations(folder):
    """The shared batch's activations written by `make-shared`: models, layers and acts[layer][model]."""
    models, layers = int(sys.argv[3]), int(sys.argv[4])
    return models, layers, [[np.load(os.path.join(folder, f"m{i}l{j}.npy")) for i in range(models)] for j in range(layers)]


def main():
    mode = sys.argv[1]
    if mode == "make":
        folder, pairs, n, p = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
        rng = np.random.default_rng(0)
        for k in range(pairs):
            a = rng.standard_normal((n, p)).astype(np.float32)
            mix = rng.standard_normal((p, p)).astype(np.float32) / np.sqrt(p)
            b = (a @ mix + 0.5 * rng.standard_normal((n, p))).astype(np.float32)
            np.save(os.path.join(folder, f"a{k}.npy"), a)
            np.save(os.path.join(folder, f"b{k}.npy"), b)
        return
    if mode == "make-shared":
        folder, models, layers, n, p = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
        rng = np.random.default_rng(1)
        for j in range(layers):
            common = rng.standard_normal((n, p)).astype(np.float32)  # what the layer computes in every model
            for i in range(models):
                mix = rng.standard_normal((p, p)).astype(np.float32) / np.sqrt(p)
                np.save(os.path.join(folder, f"m{i}l{j}.npy"), (common @ mix + 0.7 * rng.standard_normal((n, p))).astype(np.float32))
        return
    if mode == "gemm":
        n, p, threads = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
        rng = np.random.default_rng(2)
        x, y = rng.standard_normal((n, p)), rng.standard_normal((n, p))
        flops = 2.0 * n * p * p
        rates = {"numpy": flops / best(lambda: x.T @ y) / 1e9}
        try:
            import torch
            torch.set_num_threads(threads)
            tx, ty = torch.from_numpy(x), torch.from_numpy(y)
            rates["torch"] = flops / best(lambda: tx.t().mm(ty)) / 1e9
            rates["torchVersion"] = torch.__version__
        except ImportError:
            pass
        print(json.dumps({"gflops": rates, "blas": blas()}))
        return
    folder = sys.argv[2]
    if mode == "time":
        pairs = int(sys.argv[3])
        arrays = [(np.load(os.path.join(folder, f"a{k}.npy")), np.load(os.path.join(folder, f"b{k}.npy"))) for k in range(pairs)]
        start = time.perf_counter()
        means = [float(np.mean(cca(a.T.astype(np.float64), b.T.astype(np.float64)))) for a, b in arrays]
        print(json.dumps({"seconds": time.perf_counter() - start, "mean_cca": means, "blas": blas()}))
        return
    if mode == "time-procrustes":
        pairs = int(sys.argv[3])
        arrays = [(np.load(os.path.join(folder, f"a{k}.npy")), np.load(os.path.join(folder, f"b{k}.npy"))) for k in range(pairs)]
        start = time.perf_counter()
        distances = [procrustes(a, b) for a, b in arrays]
        print(json.dumps({"seconds": time.perf_counter() - start, "procrustes": distances, "blas": blas()}))
        return
    if mode in ("time-shape", "time-rbf"):
        pairs, setting = int(sys.argv[3]), float(sys.argv[5])
        arrays = [(np.load(os.path.join(folder, f"a{k}.npy")), np.load(os.path.join(folder, f"b{k}.npy"))) for k in range(pairs)]
        metric, key = (shape, "shape") if mode == "time-shape" else (rbf_cka, "rbf")
        start = time.perf_counter()
        values = [metric(a, b, setting) for a, b in arrays]
        print(json.dumps({"seconds": time.perf_counter() - start, key: values, "blas": blas()}))
        return
    if mode == "time-shared":
        models, layers, acts = shared_activations(folder)
        start = time.perf_counter()
        means = []
        for j in range(layers):
            prepared = [prepare(a) for a in acts[j]]
            means += [float(np.mean(cca_prepared(prepared[a], prepared[b]))) for a in range(models) for b in range(a + 1, models)]
        print(json.dumps({"seconds": time.perf_counter() - start, "mean_cca": means, "blas": blas()}))
        return
    if mode == "time-shared-pairwise":
        models, layers, acts = shared_activations(folder)
        start = time.perf_counter()
        means = [float(np.mean(cca(acts[j][a].T.astype(np.float64), acts[j][b].T.astype(np.float64))))
                 for j in range(layers) for a in range(models) for b in range(a + 1, models)]
        print(json.dumps({"seconds": time.perf_counter() - start, "mean_cca": means, "blas": blas()}))
        return
    raise SystemExit(f"unknown mode {mode}")


def best(f, rounds=3):
    f()  # warm-up: the BLAS's threads started, the output allocated once
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return min(times)


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
    threads = {"time": 4, "time-procrustes": 4, "time-shape": 4, "time-rbf": 4, "time-shared": 5, "time-shared-pairwise": 5, "gemm": 4}.get(sys.argv[1])
    if threads is not None and len(sys.argv) > threads:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = sys.argv[threads]
    import numpy as np  # after the thread settings, which BLAS reads at load

    main()

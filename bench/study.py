"""Peer of `transfusion-native bench study`: a whole Table-1 study in PyTorch from Python, as a careful user writes it.

The same study as `run` (the quick preset unless told otherwise), from the same data: `bench study` draws the task's and
the pretraining source's images once with the addon and writes them here as .npy (normalised float32, N x 3 x H x W;
binary targets N x 1; class ids N), with study.json naming the models, initialisations, seeds and settings, and the
learning rate of every step (the addon's schedule, so both sides follow it exactly).

Same models (the CBR family as native/core/models/cbr.cc builds it: bench/train_step.py's definition), same
initialisation (Kaiming-normal convs, fan-out, ReLU gain; BatchNorm 1/0; PyTorch's default head), same pretraining
(multiclass cross-entropy on the natural-image source, top-1/top-5 on its held-out set at the end), same transfer
(pretrained weights loaded, a new head), same optimizer (Adam, betas 0.9/0.999, no weight decay), batch, steps and
per-step learning rates, batch order by a fresh permutation per epoch, BCE with logits, validation every evalEvery steps
(and at step 0 with evalAtStart) in eval mode without gradients (batches of 128: AUC-ROC, average precision, and at the end the AUC's bootstrap 95%
interval over `bootstrap` row resamples, vectorised in numpy). Sequential, with torch.set_num_threads(threads), or
with --processes N spread over N spawned worker processes (pretraining first, then the runs), as ours spreads its runs
over concurrent jobs; --eval-batch sets the validation batch.
Prints one JSON line: seconds per phase (pretraining, training, evaluation: summed over runs, which overlap in the
parallel mode; whole study: wall time) and every run's numbers.
On CPU run it with Debian's interpreter (/usr/bin/python3: python3-torch, the same LibTorch as the addon).
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_step import cbr  # noqa: E402  the CBR definition the training-step peer uses


def build(name, classes, seed):
    torch.manual_seed(seed)
    model = cbr(name)
    head = model[-1]
    model[-1] = nn.Linear(head.in_features, classes)
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    return model


def ranks_auc(scores, labels):
    """AUC-ROC with ties counted one half (Mann-Whitney), per row of scores (R x N) against labels (R x N)."""
    order = np.argsort(scores, axis=1, kind="mergesort")
    s = np.take_along_axis(scores, order, axis=1)
    y = np.take_along_axis(labels, order, axis=1)
    n = s.shape[1]
    ranks = np.empty_like(s, dtype=np.float64)
    for r in range(s.shape[0]):  # average ranks of ties
        _, first, counts = np.unique(s[r], return_index=True, return_counts=True)
        avg = first + (counts + 1) / 2.0
        ranks[r] = np.repeat(avg, counts)
    pos = y.sum(axis=1)
    neg = n - pos
    with np.errstate(invalid="ignore", divide="ignore"):
        return ((ranks * y).sum(axis=1) - pos * (pos + 1) / 2.0) / (pos * neg)


def average_precision(scores, labels):
    order = np.argsort(-scores, kind="mergesort")
    y = labels[order]
    s = scores[order]
    tp = np.cumsum(y)
    last = np.r_[np.nonzero(np.diff(s))[0], len(s) - 1]  # the end of each run of tied scores
    precision = tp[last] / (last + 1)
    recall = tp[last] / max(tp[-1], 1)
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def predict(model, x, batch=128):
    model.eval()
    with torch.inference_mode():
        out = torch.cat([model(x[i:i + batch]) for i in range(0, len(x), batch)])
    model.train()
    return out


def fit(model, x, y, steps, batch, lrs, loss_fn, seed, on_eval=None, eval_every=0, eval_at_start=False):
    """Adam over `steps` batches drawn from a fresh permutation per epoch; returns (losses, train seconds, eval seconds).
    eval_at_start: validate the untrained model first (step 0), as our studies do."""
    opt = torch.optim.Adam(model.parameters(), lr=lrs[0], betas=(0.9, 0.999), weight_decay=0.0)
    g = torch.Generator().manual_seed(seed)
    order, at = torch.randperm(len(x), generator=g), 0
    losses, train_s, eval_s = [], 0.0, 0.0
    model.train()
    if on_eval and eval_every and eval_at_start:
        t = time.perf_counter()
        on_eval(0, False)
        eval_s += time.perf_counter() - t
    for step in range(steps):
        t = time.perf_counter()
        if at + batch > len(x):
            order, at = torch.randperm(len(x), generator=g), 0
        rows = order[at:at + batch]
        at += batch
        for group in opt.param_groups:
            group["lr"] = lrs[step]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x[rows]), y[rows])
        loss.backward()
        opt.step()
        losses.append(float(loss))
        train_s += time.perf_counter() - t
        if on_eval and ((eval_every and (step + 1) % eval_every == 0) or step + 1 == steps):
            t = time.perf_counter()
            on_eval(step + 1, step + 1 == steps)
            eval_s += time.perf_counter() - t
    return losses, train_s, eval_s


def load_arrays(folder):
    load = lambda name: torch.from_numpy(np.load(os.path.join(folder, name + ".npy")))  # noqa: E731
    return {
        "task": (load("task_train_x"), load("task_train_y")), "val": (load("task_val_x"), load("task_val_y")),
        "natural": (load("natural_train_x"), load("natural_train_y").long()),
        "natural_val": (load("natural_val_x"), load("natural_val_y").long()),
    }


# A worker's state in the parallel mode (--processes): the data, loaded once per process.
_worker = {}


def start_worker(folder, threads):
    torch.set_num_threads(threads)
    _worker["data"] = load_arrays(folder)


def pretrain_one(spec, name, eval_batch, data=None):
    """Pretrains one model on the natural-image source; returns (its record, its weights)."""
    data = data or _worker["data"]
    pt = spec["pretrain"]
    t = time.perf_counter()
    model = build(name, pt["classes"], pt["seed"])
    nat_x, nat_y = data["natural"]
    natv_x, natv_y = data["natural_val"]
    fit(model, nat_x, nat_y, pt["steps"], pt["batchSize"], pt["learningRates"], F.cross_entropy, pt["seed"])
    logits = predict(model, natv_x, eval_batch)
    top5 = logits.topk(5, dim=1).indices
    top1 = float((top5[:, 0] == natv_y).float().mean())
    top5 = float((top5 == natv_y[:, None]).any(dim=1).float().mean())
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    return {"model": name, "steps": pt["steps"], "top1": top1, "top5": top5, "seconds": time.perf_counter() - t}, weights


def run_one(spec, run, pretrained, eval_batch, data=None):
    """One run of the study: a model from random or pretrained weights trained on the task, validated as it goes.
    Returns (its record, its training seconds, its evaluation seconds)."""
    data = data or _worker["data"]
    tr = spec["train"]
    name, init, seed = run["model"], run["init"], run["seed"]
    task_x, task_y = data["task"]
    val_x, val_y = data["val"]
    labels = val_y[:, 0].numpy().astype(np.float64)
    model = build(name, 1, seed)
    if init == "transfer":
        weights = {k: v for k, v in pretrained.items() if not k.startswith(f"{len(model) - 1}.")}  # the head is new
        model.load_state_dict(weights, strict=False)
    curve, final = [], {}

    def on_eval(step, last):
        scores = torch.sigmoid(predict(model, val_x, eval_batch))[:, 0].double().numpy()
        auc = float(ranks_auc(scores[None, :], labels[None, :])[0])
        curve.append({"step": step, "auc": auc})
        if last:
            final["auprc"] = average_precision(scores, labels)
            if spec["bootstrap"] > 0:
                rows = np.random.default_rng(seed).integers(0, len(labels), size=(spec["bootstrap"], len(labels)))
                aucs = ranks_auc(scores[rows], labels[rows])
                aucs = aucs[np.isfinite(aucs)]
                final["aucCi"] = [float(np.percentile(aucs, 2.5)), float(np.percentile(aucs, 97.5))]

    losses, train_s, eval_s = fit(model, task_x, task_y, tr["steps"], tr["batchSize"], tr["learningRates"],
                                  F.binary_cross_entropy_with_logits, seed, on_eval, tr["evalEvery"],
                                  tr.get("evalAtStart", False))
    record = {"model": name, "init": init, "seed": seed, "steps": len(losses), "finalLoss": losses[-1],
              "auc": curve[-1]["auc"], "curve": curve, **final}
    return record, train_s, eval_s


def fastest_eval_batch(spec, folder, threads):
    """The validation batch with the least total time over the study's models (random weights) at `threads` threads:
    each candidate timed twice after one untimed pass, the best of the two kept."""
    val_x = torch.from_numpy(np.load(os.path.join(folder, "task_val_x.npy")))
    models = [build(name, 1, 0) for name in dict.fromkeys(run["model"] for run in spec["runs"])]
    candidates = sorted({b for b in (64, 128, 256, 512, len(val_x)) if b <= len(val_x)})
    saved = torch.get_num_threads()
    torch.set_num_threads(threads)
    cost = {}
    for batch in candidates:
        total = 0.0
        for model in models:
            predict(model, val_x, batch)
            best = float("inf")
            for _ in range(2):
                t = time.perf_counter()
                predict(model, val_x, batch)
                best = min(best, time.perf_counter() - t)
            total += best
        cost[batch] = total
    torch.set_num_threads(saved)
    return min(cost, key=cost.get)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True, help="the folder bench study wrote: study.json and the .npy files")
    p.add_argument("--processes", type=int, default=1,
                   help="1: everything in this process at the study's threads; N > 1: pretraining and then the runs "
                        "spread over N worker processes (spawned), each at threads / N (at least 1), as ours spreads "
                        "its runs over concurrent jobs")
    p.add_argument("--eval-batch", default="128",
                   help="images per forward pass when validating, or auto: the fastest of 64 to the whole validation "
                        "set, timed on each model of the study before it starts (not counted in its seconds)")
    a = p.parse_args()
    with open(os.path.join(a.dir, "study.json")) as f:
        spec = json.load(f)
    torch.set_num_threads(spec["threads"])
    if a.eval_batch == "auto":
        a.eval_batch = fastest_eval_batch(spec, a.dir, max(1, spec["threads"] // a.processes))
    else:
        a.eval_batch = int(a.eval_batch)
    t_study = time.perf_counter()
    timing = {"pretraining": 0.0, "training": 0.0, "evaluation": 0.0}
    runs = spec["runs"]
    if a.processes > 1:
        import multiprocessing as mp
        per = max(1, spec["threads"] // a.processes)
        with mp.get_context("spawn").Pool(a.processes, initializer=start_worker, initargs=(a.dir, per)) as pool:
            made = pool.starmap(pretrain_one, [(spec, name, a.eval_batch) for name in spec["pretrainModels"]])
            pretrained = {record["model"]: weights for record, weights in made}
            done = pool.starmap(run_one, [(spec, run, pretrained.get(run["model"]), a.eval_batch) for run in runs])
    else:
        data = load_arrays(a.dir)
        made = [pretrain_one(spec, name, a.eval_batch, data) for name in spec["pretrainModels"]]
        pretrained = {record["model"]: weights for record, weights in made}
        done = [run_one(spec, run, pretrained.get(run["model"]), a.eval_batch, data) for run in runs]
    pretraining = [record for record, _ in made]
    timing["pretraining"] = sum(record["seconds"] for record in pretraining)
    timing["training"] = sum(train_s for _, train_s, _ in done)
    timing["evaluation"] = sum(eval_s for _, _, eval_s in done)
    timing["study"] = time.perf_counter() - t_study
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "processes": a.processes,
                      "evalBatch": a.eval_batch, "seconds": timing, "pretraining": pretraining,
                      "runs": [record for record, _, _ in done]}))


if __name__ == "__main__":
    main()

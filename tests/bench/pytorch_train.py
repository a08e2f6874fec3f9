#!/usr/bin/python3
"""PyTorch twin of bench_train: one epoch of the same models on Fashion-MNIST.

Run with Debian's /usr/bin/python3 (python3-torch, python3-numpy). Prints one JSON line
per model: {"model": ..., "threads": N, "samples_per_sec": ...}. Exits 3 when torch or
the data set is missing, so the driver can skip the comparison.
"""
import gzip, json, os, sys, time

try:
    import numpy as np
    import torch
    import torch.nn as nn
except ImportError as e:  # pragma: no cover
    print(json.dumps({"skip": f"missing python module: {e.name}"}))
    sys.exit(3)

DATA = os.environ.get("QAT_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")


def load_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def models():
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    cnn = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))
    return {"fashion-mlp": mlp, "fashion-cnn": cnn}


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    which = sys.argv[2:] or ["fashion-cnn", "fashion-mlp"]
    try:
        x = load_idx(os.path.join(DATA, "train-images-idx3-ubyte.gz")).astype(np.float32) / 255.0
        y = load_idx(os.path.join(DATA, "train-labels-idx1-ubyte.gz")).astype(np.int64)
    except OSError as e:
        print(json.dumps({"skip": f"Fashion-MNIST missing: {e}"}))
        sys.exit(3)
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    xt = torch.from_numpy(x).unsqueeze(1)  # (N, 1, 28, 28)
    yt = torch.from_numpy(y)
    batch = 64
    for name, model in models().items():
        if name not in which:
            continue
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = nn.CrossEntropyLoss()
        model.train()
        perm = torch.randperm(len(xt))
        xs, ys = xt[perm].contiguous(), yt[perm].contiguous()
        # warm-up: 20 steps
        for i in range(20):
            opt.zero_grad()
            loss_fn(model(xs[i * batch:(i + 1) * batch]), ys[i * batch:(i + 1) * batch]).backward()
            opt.step()
        t0 = time.perf_counter()
        n = len(xs)
        for i in range(0, n, batch):
            opt.zero_grad()
            loss = loss_fn(model(xs[i:i + batch]), ys[i:i + batch])
            loss.backward()
            opt.step()
        dt = time.perf_counter() - t0
        print(json.dumps({"model": name, "threads": threads, "samples_per_sec": n / dt,
                          "seconds": dt, "final_loss": float(loss)}), flush=True)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""PyTorch twin of bench_qat: one epoch of eager-mode QAT of the built-in models.

The anchor set-up of shared/anchors.md: Conv+BN+ReLU fused with fuse_modules_qat
(ConvBnReLU2d: true BatchNorm folding), Linear+ReLU fused, QuantStub/DeQuantStub at the
edges, the qnnpack default QAT qconfig, batch 64, Adam 1e-3, data pre-loaded, 20 warm-up
steps. Float training of the same model is timed in the same run. Run with Debian's
/usr/bin/python3; prints one JSON line per model; exits 3 when torch or the data is
missing, so the driver can skip the comparison.
"""
import json, os, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import torch
    import torch.nn as nn
    import torch.ao.quantization as tq
    from pytorch_train import load_idx, DATA
except ImportError as e:  # pragma: no cover
    print(json.dumps({"skip": f"missing python module: {e.name}"}))
    sys.exit(3)
import numpy as np


class Net(nn.Module):
    def __init__(self, cnn):
        super().__init__()
        self.quant, self.dequant = tq.QuantStub(), tq.DeQuantStub()
        if cnn:
            self.body = nn.Sequential(
                nn.Conv2d(1, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(32, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
                nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))
            self.fuse = [["0", "1", "2"], ["4", "5", "6"], ["9", "10"]]
        else:
            self.body = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
            self.fuse = [["1", "2"]]

    def forward(self, x):
        return self.dequant(self.body(self.quant(x)))


def epoch(model, xs, ys, batch=64):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for i in range(20):  # warm-up
        opt.zero_grad()
        loss_fn(model(xs[i * batch:(i + 1) * batch]), ys[i * batch:(i + 1) * batch]).backward()
        opt.step()
    t0 = time.perf_counter()
    for i in range(0, len(xs), batch):
        opt.zero_grad()
        loss_fn(model(xs[i:i + batch]), ys[i:i + batch]).backward()
        opt.step()
    return len(xs) / (time.perf_counter() - t0)


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
    torch.backends.quantized.engine = "qnnpack"
    perm = torch.randperm(len(x))
    xs = torch.from_numpy(x).unsqueeze(1)[perm].contiguous()
    ys = torch.from_numpy(y)[perm].contiguous()
    for name in which:
        cnn = name == "fashion-cnn"
        float_sps = epoch(Net(cnn), xs, ys)
        model = Net(cnn)
        model.train()
        model.body = tq.fuse_modules_qat(model.body, model.fuse)
        model.qconfig = tq.get_default_qat_qconfig("qnnpack")
        tq.prepare_qat(model, inplace=True)
        qat_sps = epoch(model, xs, ys)
        print(json.dumps({"model": name, "threads": threads, "float_samples_per_sec": float_sps,
                          "qat_samples_per_sec": qat_sps}), flush=True)


if __name__ == "__main__":
    main()

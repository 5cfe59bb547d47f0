#!/usr/bin/env python3
"""The PyTorch side of docs/performance.md's comparison: SPEC's unconditional UNet (the same
parameter counts as src/lib/nn/unet.ts: 124,433 at D=16 ... 7,891,073 at D=128) trained as
`npm run bench -- --models denoiser --hidden 16,32,64,128 --batch 64` trains it (forward, backward,
Adam, batch 64), then sampled (eval-mode UNet calls on chunks of 64).

Not part of the project's build or tests; needs PyTorch (Debian: apt-get install python3-torch).
Its transposed convs and most of its conv backward go through BLAS: install OpenBLAS too
(apt-get install libopenblas0-pthread, one of the package's recommends), else Debian's reference
BLAS makes PyTorch 3-4x slower (docs/performance.md, "Which PyTorch").
Usage: python3 scripts/pytorch-unet-bench.py [--hidden 16,32,64,128] [--batch 64] [--threads 2]
"""
import argparse
import resource
import time

import torch
import torch.nn as nn


def conv(i, o):
    return nn.Sequential(nn.Conv2d(i, o, 3, 1, 1), nn.BatchNorm2d(o), nn.GELU())


def block(i, o):
    return nn.Sequential(conv(i, o), conv(o, o))


class UNet(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.b1 = block(1, d)
        self.down1 = nn.Sequential(nn.Conv2d(d, d, 3, 2, 1), nn.BatchNorm2d(d), nn.GELU(), block(d, d))
        self.down2 = nn.Sequential(nn.Conv2d(d, 2 * d, 3, 2, 1), nn.BatchNorm2d(2 * d), nn.GELU(), block(2 * d, 2 * d))
        self.flatten = nn.Sequential(nn.AvgPool2d(7), nn.GELU())
        self.unflatten = nn.Sequential(nn.ConvTranspose2d(2 * d, 2 * d, 7, 7, 0), nn.BatchNorm2d(2 * d), nn.GELU())
        self.up1 = nn.Sequential(nn.ConvTranspose2d(4 * d, d, 4, 2, 1), nn.BatchNorm2d(d), nn.GELU(), block(d, d))
        self.up2 = nn.Sequential(nn.ConvTranspose2d(2 * d, d, 4, 2, 1), nn.BatchNorm2d(d), nn.GELU(), block(d, d))
        self.out = nn.Sequential(block(2 * d, d), nn.Conv2d(d, 1, 3, 1, 1))

    def forward(self, x):
        e1 = self.b1(x)
        e2 = self.down1(e1)
        e3 = self.down2(e2)
        u = self.unflatten(self.flatten(e3))
        d1 = self.up1(torch.cat([u, e3], 1))
        d2 = self.up2(torch.cat([d1, e2], 1))
        return self.out(torch.cat([d2, e1], 1))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--hidden', default='16,32,64,128')
    parser.add_argument('--batch', type=int, default=64)
    parser.add_argument('--threads', type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    for d in [int(h) for h in args.hidden.split(',')]:
        model = UNet(d)
        optimizer = torch.optim.Adam(model.parameters(), 1e-4)
        x = torch.rand(args.batch, 1, 28, 28)

        def step():
            z = x + 0.5 * torch.randn_like(x)
            loss = ((model(z) - x) ** 2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

        step()  # warm-up
        steps = 20 if d <= 32 else 6
        start = time.perf_counter()
        for _ in range(steps):
            step()
        train = steps * args.batch / (time.perf_counter() - start)

        model.eval()
        chunk = torch.randn(64, 1, 28, 28)
        with torch.no_grad():
            model(chunk)
            start = time.perf_counter()
            for _ in range(3):
                model(chunk)
            sample = 3 * 64 / (time.perf_counter() - start)
        params = sum(p.numel() for p in model.parameters())
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f'D={d} batch={args.batch} threads={torch.get_num_threads()} params={params}: '
              f'train {train:.1f} img/s, sample {sample:.1f} img/s, peak RSS {rss:.0f} MB (process so far)', flush=True)


if __name__ == '__main__':
    main()

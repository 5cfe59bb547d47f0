#!/usr/bin/env python3
"""SPEC's Part B DDPM recipe (B2, B2.4) in PyTorch, for a machine with a GPU: the time- or
class-conditioned UNet of scripts/torch_unets.py trained on the digits that

    diffusion export --digits digits.safetensors

wrote from this project's data, with what the TypeScript trainer does (src/lib/train/): Adam with
the per-epoch exponential decay to finalLrFactor * lr, the linear schedule of T = 300 with t drawn
from 1..T, eps-prediction with t / T as input, class dropout p_uncond (class kind), every epoch a
fresh shuffle, the last batch of an epoch partial. Its output folder holds what the trainer's run
folders hold, in PyTorch layout:

    model-epoch-NNN.safetensors   the weights after each epoch (metadata: kind, hidden, epoch)
    loss.jsonl                    one line per step: step, epoch, loss, lr, seconds
    torch-run.json                the recipe, device, versions, data and per-epoch losses

and `diffusion import --torch-run DIR` turns it into a run folder that sample, evaluate and the
report use like one trained here. Random numbers come from PyTorch, so the losses are not the
TypeScript trainer's step for step; the recipe is.

Usage:
  train_partb_torch.py --kind time|class --data digits.safetensors --out DIR
      [--hidden 64] [--epochs 20] [--batch 128] [--lr 1e-3] [--seed 0]
      [--device auto|cpu|cuda] [--bf16] [--threads N]
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

from torch_unets import UNet, load_safetensors, metadata_for, save_safetensors

# SPEC's fixed numbers (src/lib/train/config.ts defaultTrainConfig).
T = 300
BETA_START, BETA_END = 1e-4, 0.02
P_UNCOND = 0.1
FINAL_LR_FACTOR = 0.1
NUM_CLASSES = 10


def load_digits(path):
    """The train split written by `diffusion export --digits`: images [N, 1, 28, 28] in [0, 1], labels [N]."""
    if not os.path.isfile(path):
        raise SystemExit(f'{path} is not a file: write it with `diffusion export --digits {path}` in the repository')
    tensors, metadata = load_safetensors(path)
    if 'images' not in tensors or 'labels' not in tensors:
        raise SystemExit(f'{path} has no "images" and "labels": write it with `diffusion export --digits {path}`')
    images, labels = tensors['images'], tensors['labels'].long()
    if images.dtype != torch.uint8 or images.dim() != 3 or images.shape[0] != labels.shape[0]:
        raise SystemExit(f'{path}: images must be uint8 [N, H, W] with one label each, got {images.dtype} {list(images.shape)}')
    return images.float().div(255).unsqueeze(1), labels, metadata


def write_atomic(path, text):
    tmp = f'{path}.{os.getpid()}.tmp'
    with open(tmp, 'w') as f:
        f.write(text)
    os.replace(tmp, path)


def train(args):
    device = torch.device('cuda' if args.device == 'auto' and torch.cuda.is_available() else ('cpu' if args.device == 'auto' else args.device))
    if device.type == 'cuda' and not torch.cuda.is_available():
        raise SystemExit('--device cuda: PyTorch sees no GPU here; use --device cpu (slow) or run on a machine with one')
    torch.manual_seed(args.seed)
    generator = torch.Generator(device='cpu').manual_seed(args.seed)
    images, labels, data_meta = load_digits(args.data)
    images, labels = images.to(device), labels.to(device)
    n = images.shape[0]
    os.makedirs(args.out, exist_ok=True)
    if any(f.startswith('model-epoch-') for f in os.listdir(args.out)):
        raise SystemExit(f'--out {args.out} already holds a run: give a new folder')

    model = UNet(args.hidden, args.kind, NUM_CLASSES).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    abar = torch.cumprod(1 - torch.linspace(BETA_START, BETA_END, T), 0).to(device)
    steps_per_epoch = (n + args.batch - 1) // args.batch
    log = open(os.path.join(args.out, 'loss.jsonl'), 'w')
    epochs, step, seconds = [], 0, 0.0
    print(f'[torch] {args.kind} UNet D={args.hidden}, {sum(p.numel() for p in model.parameters()):,} parameters, '
          f'{n} digits, {args.epochs} epochs of {steps_per_epoch} steps on {device}{" (bf16)" if args.bf16 else ""}', file=sys.stderr)
    for epoch in range(args.epochs):
        lr = args.lr * FINAL_LR_FACTOR ** (epoch / args.epochs)
        for group in optimizer.param_groups:
            group['lr'] = lr
        model.train()
        order = torch.randperm(n, generator=generator).to(device)
        losses = []
        start = time.perf_counter()
        for first in range(0, n, args.batch):
            idx = order[first:first + args.batch]
            x, b = images[idx], idx.shape[0]
            eps = torch.randn(x.shape, generator=generator).to(device)
            t = torch.randint(1, T + 1, (b,), generator=generator).to(device)
            a = abar[t - 1][:, None, None, None]
            xt = a.sqrt() * x + (1 - a).sqrt() * eps
            c = None
            if args.kind == 'class':
                keep = (torch.rand(b, generator=generator) >= P_UNCOND).float().to(device)
                c = F.one_hot(labels[idx], NUM_CLASSES).float() * keep[:, None]
            with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=args.bf16):
                loss = F.mse_loss(model(xt, (t.float() / T)[:, None], c).float(), eps)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            value = loss.item()
            if value != value or value in (float('inf'), float('-inf')):
                raise SystemExit(f'the loss is {value} at step {step} (epoch {epoch + 1}): lower --lr and train again in a new folder')
            losses.append(value)
            log.write(json.dumps({'step': step, 'epoch': epoch + 1, 'loss': value, 'lr': lr,
                                  'seconds': round(seconds + time.perf_counter() - start, 3)}) + '\n')
        if device.type == 'cuda':
            torch.cuda.synchronize()
        seconds += time.perf_counter() - start
        log.flush()
        meta = metadata_for(args.kind, args.hidden, NUM_CLASSES, {'epoch': str(epoch + 1), 'source': 'scripts/train_partb_torch.py'})
        state = {k: v.detach().float().cpu() if v.is_floating_point() else v.cpu() for k, v in model.state_dict().items()}
        save_safetensors(os.path.join(args.out, f'model-epoch-{epoch + 1:03d}.safetensors'), state, meta)
        epochs.append({'epoch': epoch + 1, 'meanLoss': sum(losses) / len(losses), 'lr': lr, 'seconds': round(seconds, 3)})
        print(f'[torch] epoch {epoch + 1}/{args.epochs}: mean loss {epochs[-1]["meanLoss"]:.5f}, {seconds:.1f} s', file=sys.stderr)
    log.close()
    record = {
        'recipe': {'kind': args.kind, 'hidden': args.hidden, 'epochs': args.epochs, 'batchSize': args.batch, 'lr': args.lr,
                   'finalLrFactor': FINAL_LR_FACTOR, 'T': T, 'pUncond': P_UNCOND, 'seed': args.seed, 'schedule': 'linear'},
        'device': torch.cuda.get_device_name(device) if device.type == 'cuda' else 'cpu',
        'bf16': args.bf16,
        'versions': {'torch': torch.__version__, 'python': sys.version.split()[0]},
        'data': {**data_meta, 'file': os.path.basename(args.data), 'count': n},
        'steps': step,
        'trainingSeconds': round(seconds, 3),
        'epochs': epochs,
    }
    # Written last: a folder without it is an unfinished run, which the import refuses.
    write_atomic(os.path.join(args.out, 'torch-run.json'), json.dumps(record, indent=2) + '\n')


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--kind', choices=('time', 'class'), required=True)
    parser.add_argument('--data', required=True)
    parser.add_argument('--out', required=True)
    parser.add_argument('--hidden', type=int, default=64)
    parser.add_argument('--epochs', type=int, default=20)
    parser.add_argument('--batch', type=int, default=128)
    parser.add_argument('--lr', type=float, default=1e-3)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--device', default='auto', choices=('auto', 'cpu', 'cuda'))
    parser.add_argument('--bf16', action='store_true', help='autocast the forward pass to bfloat16 (GPU)')
    parser.add_argument('--threads', type=int, default=0, help='CPU threads (0: PyTorch default)')
    args = parser.parse_args(argv)
    for name in ('hidden', 'epochs', 'batch'):
        if getattr(args, name) < 1:
            parser.error(f'--{name} must be a positive integer')
    if not args.lr > 0:
        parser.error('--lr must be positive')
    if args.threads:
        torch.set_num_threads(args.threads)
    train(args)


if __name__ == '__main__':
    main(sys.argv[1:])

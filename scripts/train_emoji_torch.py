#!/usr/bin/env python3
"""Stage I of Part A's colour model (text -> 32x32 RGB) trained in PyTorch, for a machine with a
GPU: the network of scripts/torch_cascade.py (the TypeScript one, module for module) on the file

    diffusion export --emoji-data emoji-stage1-data.safetensors

with what the TypeScript trainer does (src/lib/train/cascade-objectives.ts): x0 in [-1, 1], t drawn
uniformly from 0..T-1 of the cosine schedule, x_t = sqrt(abar) x0 + sqrt(1 - abar) eps, a fresh
caption per draw (the empty prompt with probability pUncond, the generic one with pGeneric), and
the mean squared error to v = sqrt(abar) eps - sqrt(1 - abar) x0 (or to eps). On top: AdamW with a
linear warm-up and cosine decay, an exponential moving average of the weights (EMA), bf16
autocast and TF32 on CUDA, a wall-clock budget, checkpoints with exact resume, and several GPUs
or machines through torchrun (DistributedDataParallel; gloo on CPUs).

Its output folder:

    checkpoint.pt                  model, EMA, optimiser, step and random states (resume)
    loss.jsonl                     one line per step: step, epoch, loss, lr, seconds
    emoji-stage1-torch.safetensors the EMA weights in PyTorch layout, the stage's config (with
                                   this recipe) and how it was trained in the metadata

and `diffusion import --torch-cascade DIR/emoji-stage1-torch.safetensors --out FILE.safetensors`
turns the weights into the network file the project loads. Random numbers are PyTorch's (and
Python's for captions), so the losses are not the TypeScript trainer's step for step.

Usage:
  train_emoji_torch.py --data FILE --out DIR [--steps N] [--minutes M] [--batch 256] [--lr 3e-4]
      [--warmup 500] [--ema 0.999] [--seed 0] [--bf16] [--device auto|cpu|cuda] [--threads N]
      [--save-every 1000] [--init WEIGHTS]
  torchrun --nproc_per_node K train_emoji_torch.py ...   (the batch is per process)
"""
import argparse
import json
import math
import os
import random
import re
import sys
import time

import torch
import torch.distributed as dist
import torch.nn.functional as F

from torch_cascade import TextToImageNet
from torch_unets import load_safetensors, save_safetensors

DATA_FORMAT = 'diffusion-ts emoji stage I data'  # src/lib/train/torch-cascade.ts
START_ID, FIRST_WORD_ID = 1, 2  # src/lib/text/tokenizer.ts
WEIGHTS_FILE = 'emoji-stage1-torch.safetensors'


# ---- data and captions (src/lib/text/captions.ts, src/lib/text/tokenizer.ts) ----

def words(text):
    return [w for w in re.split('[^a-z0-9]+', text.lower()) if w]


class Captions:
    """Composes a fresh caption for an image and turns it into token ids, as the TypeScript side does."""

    def __init__(self, captions, config):
        spec = config['cascade']
        self.subjects, self.style_words = captions['subjects'], captions['styleWords']
        self.frames, self.recipe, self.generic = captions['frames'], captions['recipe'], captions['generic']
        self.p_uncond, self.p_generic = config['pUncond'], spec.get('pGeneric', 0)
        self.max_tokens = spec['text']['maxTokens']
        self.ids = {w: i + FIRST_WORD_ID for i, w in enumerate(spec['vocabulary'])}

    def compose(self, subject, style, rng):
        r = self.recipe
        names, keywords = subject['names'], subject['keywords']
        if keywords and rng.random() < r['pKeywordOnly']:
            text = rng.choice(keywords)
        else:
            text = rng.choice(names)
            if keywords and rng.random() < r['pExtraKeyword']:
                text += ' ' + rng.choice(keywords)
        if rng.random() < r['pFrame']:
            text = rng.choice(self.frames) + ' ' + text
        if rng.random() < r['pStyle']:
            text += f' in {style} style'
        return text

    def caption(self, label, style, rng):
        u = rng.random()
        if u < self.p_uncond:
            return ''
        if u < self.p_uncond + self.p_generic:
            return self.generic
        return self.compose(self.subjects[label], self.style_words[style], rng)

    def token_ids(self, text):
        out = [START_ID] + [self.ids[w] for w in words(text)][: self.max_tokens - 1]
        return out + [0] * (self.max_tokens - len(out))


def load_data(path):
    if not os.path.isfile(path):
        raise SystemExit(f'{path} is not a file: write it with `diffusion export --emoji-data {path}` in the repository')
    tensors, metadata = load_safetensors(path)
    if metadata.get('format') != DATA_FORMAT:
        raise SystemExit(f'{path} is not stage I training data (format {metadata.get("format")!r}); write it with `diffusion export --emoji-data`')
    return tensors, json.loads(metadata['captions']), json.loads(metadata['config']), metadata


def cosine_alphas_cumprod(T):
    """IF's cosine schedule as src/lib/noise-schedules.ts makes it (betas capped at 0.999, cumprod in float32)."""
    abar = lambda s: math.cos((s + 0.008) / 1.008 * math.pi / 2) ** 2
    betas = torch.tensor([min(1 - abar((i + 1) / T) / abar(i / T), 0.999) for i in range(T)], dtype=torch.float32)
    return torch.cumprod(1 - betas, 0)


# ---- training ----

def learning_rate(step, args):
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    if not args.steps:
        return args.lr
    progress = min(1.0, (step - args.warmup) / max(1, args.steps - args.warmup))
    return args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def write_atomic(path, write):
    tmp = f'{path}.{os.getpid()}.tmp'
    write(tmp)
    os.replace(tmp, path)


def write_lines(path, lines):
    with open(path, 'w') as f:
        f.writelines(lines)


def save_weights(path, ema, net, config, args, record):
    """The EMA parameters with the live network's BatchNorm statistics, in PyTorch layout."""
    state = {k: (v.detach().float() if v.is_floating_point() else v.detach()).cpu() for k, v in net.state_dict().items()}
    state.update({k: v.detach().float().cpu() for k, v in ema.items()})
    recipe = {**config, 'batchSize': args.batch * record['world'], 'lr': args.lr, 'seed': args.seed}
    metadata = {'layout': 'torch', 'format': 'pt', 'model': 'diffusion-ts cascade stage', 'kind': 'text',
                'cascade': json.dumps(config['cascade']), 'config': json.dumps(recipe), 'trainedWith': json.dumps(record)}
    write_atomic(path, lambda tmp: save_safetensors(tmp, state, metadata))


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data', required=True)
    p.add_argument('--out', required=True)
    p.add_argument('--steps', type=int, default=0, help='stop after this many optimiser steps (0: only --minutes stops)')
    p.add_argument('--minutes', type=float, default=0, help='stop after this much training time in this run (0: no limit)')
    p.add_argument('--batch', type=int, default=256, help='images per step and process')
    p.add_argument('--lr', type=float, default=3e-4)
    p.add_argument('--warmup', type=int, default=500)
    p.add_argument('--ema', type=float, default=0.999)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--bf16', action='store_true', help='bf16 autocast (CUDA)')
    p.add_argument('--device', default='auto', choices=['auto', 'cpu', 'cuda'])
    p.add_argument('--threads', type=int, default=0, help='CPU threads (0: PyTorch default)')
    p.add_argument('--save-every', type=int, default=1000, help='steps between checkpoints')
    p.add_argument('--init', help='start from these weights (a PyTorch-layout stage I file: diffusion export '
                   '--torch-cascade stage1, or an earlier run\'s weights) unless the folder has a checkpoint')
    args = p.parse_args(argv)
    if not args.steps and not args.minutes:
        p.error('give --steps N or --minutes M (or both): training needs an end')

    world, rank = int(os.environ.get('WORLD_SIZE', 1)), int(os.environ.get('RANK', 0))
    cuda = args.device == 'cuda' or (args.device == 'auto' and torch.cuda.is_available())
    if world > 1:
        dist.init_process_group('nccl' if cuda else 'gloo')
    device = torch.device(f'cuda:{int(os.environ.get("LOCAL_RANK", 0))}' if cuda else 'cpu')
    if cuda:
        torch.cuda.set_device(device)
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    if args.threads:
        torch.set_num_threads(args.threads)
    lead = rank == 0

    tensors, captions_meta, config, data_meta = load_data(args.data)
    images = tensors['images'].to(device).permute(0, 3, 1, 2).float().div(255).mul(2).sub(1)  # [N, 3, H, W] in [-1, 1]
    labels, styles = tensors['labels'].tolist(), tensors['styles'].tolist()
    captions = Captions(captions_meta, config)
    spec = config['cascade']
    abar = cosine_alphas_cumprod(config['T']).to(device)
    n = images.shape[0]

    torch.manual_seed(args.seed)
    net = TextToImageNet(spec['text'], spec['unet']).to(device)
    model = torch.nn.parallel.DistributedDataParallel(net, device_ids=[device.index] if cuda else None) if world > 1 else net
    optimizer = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=0.0)
    ema = {k: v.detach().clone().float() for k, v in net.named_parameters()}
    step, seconds = 0, 0.0
    os.makedirs(args.out, exist_ok=True)
    ckpt_path = os.path.join(args.out, 'checkpoint.pt')
    gen = torch.Generator(device=device).manual_seed(args.seed * 1000 + rank)
    rng = random.Random(args.seed * 1000 + rank)
    if os.path.exists(ckpt_path):
        ckpt = torch.load(ckpt_path, map_location=device, weights_only=False)
        net.load_state_dict(ckpt['net'])
        optimizer.load_state_dict(ckpt['optimizer'])
        ema = {k: v.to(device) for k, v in ckpt['ema'].items()}
        step, seconds = ckpt['step'], ckpt['seconds']
        gen.set_state(ckpt['generators'][rank].cpu())  # a generator's state is a CPU byte tensor, CUDA's too
        rng.setstate(ckpt['rngs'][rank])
        if lead:
            print(f'resumed at step {step} ({seconds / 60:.1f} min trained)', file=sys.stderr)
    elif args.init:
        state, _ = load_safetensors(args.init)
        net.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()}, strict=True)
        ema = {k: v.detach().clone().float() for k, v in net.named_parameters()}
        if lead:
            print(f'starting from the weights of {args.init}', file=sys.stderr)
    record = {'device': torch.cuda.get_device_name(device) if cuda else 'cpu', 'torch': torch.__version__, 'init': args.init,
              'cuda': torch.version.cuda, 'world': world, 'bf16': bool(args.bf16 and cuda), 'data': data_meta.get('dataSha256'),
              'images': n, 'warmup': args.warmup, 'ema': args.ema,
              'optimizer': f'AdamW, {args.warmup} warm-up steps, ' + ('cosine decay to a tenth at --steps' if args.steps else 'constant after them')}

    def checkpoint():
        # Every process's random states, so a resumed run draws what an uninterrupted one would.
        states = [None] * world
        mine = (gen.get_state().cpu(), rng.getstate())
        if world > 1:
            dist.all_gather_object(states, mine)
        else:
            states = [mine]
        if lead:
            data = {'net': net.state_dict(), 'optimizer': optimizer.state_dict(), 'ema': ema, 'step': step, 'seconds': seconds,
                    'generators': [s[0] for s in states], 'rngs': [s[1] for s in states]}
            write_atomic(ckpt_path, lambda tmp: torch.save(data, tmp))
            save_weights(os.path.join(args.out, WEIGHTS_FILE), ema, net, config, args,
                         {**record, 'steps': step, 'minutes': round(seconds / 60, 2), 'imagesSeen': step * args.batch * world})

    log_path = os.path.join(args.out, 'loss.jsonl')
    if lead and os.path.exists(log_path):
        # Lines past the checkpoint are from a run that stopped before its next save: drawn again below.
        with open(log_path) as f:
            kept = [line for line in f if line.strip() and json.loads(line)['step'] <= step]
        write_atomic(log_path, lambda tmp: write_lines(tmp, kept))
    log = open(log_path, 'a') if lead else None
    budget_start = started = window_start = time.time()
    window = 0
    net.train()
    while (not args.steps or step < args.steps) and (not args.minutes or time.time() - budget_start < args.minutes * 60):
        idx = torch.randint(0, n, (args.batch,), generator=gen, device=device)
        x0 = images[idx]
        t = torch.randint(0, config['T'], (args.batch,), generator=gen, device=device)
        eps = torch.randn(x0.shape, generator=gen, device=device)
        a = abar[t][:, None, None, None]
        xt = a.sqrt() * x0 + (1 - a).sqrt() * eps
        target = a.sqrt() * eps - (1 - a).sqrt() * x0 if spec['prediction'] == 'v' else eps
        ids = torch.tensor([captions.token_ids(captions.caption(labels[i], styles[i], rng)) for i in idx.tolist()], device=device)
        lr = learning_rate(step, args)
        for group in optimizer.param_groups:
            group['lr'] = lr
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bool(args.bf16 and cuda)):
            out = model(xt, t, ids)
        loss = F.mse_loss(out.float(), target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        d = min(args.ema, (1 + step) / (10 + step))
        with torch.no_grad():
            for k, v in net.named_parameters():
                ema[k].mul_(d).add_(v.detach().float(), alpha=1 - d)
        step += 1
        window += args.batch * world
        now = time.time()
        seconds_now = seconds + (now - started)
        if log:
            log.write(json.dumps({'step': step, 'epoch': step * args.batch * world // n + 1, 'loss': loss.item(), 'lr': lr, 'seconds': round(seconds_now, 3)}) + '\n')
        if lead and now - window_start >= 30:
            print(f'step {step}: loss {loss.item():.4f}, {window / (now - window_start):.0f} images/s', file=sys.stderr)
            window, window_start = 0, now
        if step % args.save_every == 0:
            seconds = seconds_now
            started = now
            checkpoint()
    seconds += time.time() - started
    checkpoint()
    if log:
        log.close()
        print(f'done: {step} steps, {step * args.batch * world} images seen, {seconds / 60:.1f} min; '
              f'weights in {os.path.join(args.out, WEIGHTS_FILE)}', file=sys.stderr)
    if world > 1:
        dist.destroy_process_group()


if __name__ == '__main__':
    main(sys.argv[1:])

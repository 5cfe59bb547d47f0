#!/usr/bin/env python3
"""SPEC's three Part B UNets in PyTorch, with the module and parameter names of the project's
TypeScript models (src/lib/nn/unet.ts), so that a file written by

    diffusion export --torch <run folder or checkpoint> --out model.safetensors

loads with model.load_state_dict(...) (strict), and a state dict saved here imports with

    diffusion import --torch model.safetensors --out <run folder or file.safetensors>

Inputs are PyTorch's NCHW: x [N, 1, 28, 28] in [0, 1]; t [N, 1] = timestep / T (time and
class kinds); c [N, num_classes] one-hot, all zeros = unconditional (class kind).

Needs PyTorch (Debian: apt-get install python3-torch libopenblas0-pthread), nothing else: the
safetensors files are read and written by the few lines below (the format is an 8-byte
little-endian header length, a JSON header, then the raw little-endian tensor bytes).

Usage:
  torch_unets.py forward WEIGHTS INPUTS OUT [WEIGHTS INPUTS OUT ...]
      load each exported file strictly, run the model in eval mode on the tensors x (and t, c) of
      INPUTS, write the output as tensor "y" [N, 1, 28, 28] to OUT (all safetensors)
  torch_unets.py init --kind denoiser|time|class --hidden D --out FILE [--seed S] [--train-steps N]
      [--inputs IN --forward-out OUT]
      write a PyTorch-initialised state dict (after N Adam steps of SPEC's objective on synthetic
      digits, which also moves the BatchNorm statistics); optionally its eval-mode output on IN
  torch_unets.py count --kind K --hidden D
      print the number of trainable parameters (SPEC: D=128 unconditional 7,891,073)
"""
import argparse
import json
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

# ---- safetensors, the little that is needed ----

DTYPES = {
    'F64': torch.float64, 'F32': torch.float32, 'F16': torch.float16, 'BF16': torch.bfloat16,
    'I64': torch.int64, 'I32': torch.int32, 'I8': torch.int8, 'U8': torch.uint8,
}
NAMES = {v: k for k, v in DTYPES.items()}


def load_safetensors(path):
    """Returns ({name: tensor}, metadata)."""
    with open(path, 'rb') as f:
        raw = f.read()
    (n,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + n].decode('utf-8'))
    metadata = header.pop('__metadata__', {}) or {}
    data = bytearray(raw[8 + n:])
    tensors = {}
    for name, info in header.items():
        begin, end = info['data_offsets']
        dtype = DTYPES[info['dtype']]
        if end > begin:
            flat = torch.frombuffer(data, dtype=dtype, count=(end - begin) // torch.empty((), dtype=dtype).element_size(), offset=begin)
        else:
            flat = torch.empty(0, dtype=dtype)
        tensors[name] = flat.clone().reshape(info['shape'])
    return tensors, metadata


def save_safetensors(path, tensors, metadata=None):
    """Writes tensors (largest elements first, then by name, like the reference implementation)."""
    order = sorted(tensors, key=lambda k: (-tensors[k].element_size(), k))
    header, chunks, offset = {}, [], 0
    if metadata:
        header['__metadata__'] = {k: str(v) for k, v in sorted(metadata.items())}
    for name in order:
        t = tensors[name].detach().contiguous().cpu()
        b = t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() > 0 else b''
        header[name] = {'dtype': NAMES[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(b)]}
        chunks.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(',', ':')).encode('utf-8')
    h += b' ' * (-len(h) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in chunks:
            f.write(b)


# ---- the UNets (SPEC Part B, "Operations"), named as the TypeScript modules ----

class ConvBnGelu(nn.Module):
    """conv (or transposed conv) -> BatchNorm -> GELU: operations 1, 2, 3 and 5."""

    def __init__(self, conv):
        super().__init__()
        self.conv = conv
        self.bn = nn.BatchNorm2d(conv.out_channels)

    def forward(self, x):
        return F.gelu(self.bn(self.conv(x)))


def conv(i, o):
    return ConvBnGelu(nn.Conv2d(i, o, 3, 1, 1))


class ConvBlock(nn.Module):
    def __init__(self, i, o):
        super().__init__()
        self.conv1 = conv(i, o)
        self.conv2 = conv(o, o)

    def forward(self, x):
        return self.conv2(self.conv1(x))


class DownBlock(nn.Module):
    def __init__(self, i, o):
        super().__init__()
        self.down = ConvBnGelu(nn.Conv2d(i, o, 3, 2, 1))
        self.block = ConvBlock(o, o)

    def forward(self, x):
        return self.block(self.down(x))


class UpBlock(nn.Module):
    def __init__(self, i, o):
        super().__init__()
        self.up = ConvBnGelu(nn.ConvTranspose2d(i, o, 4, 2, 1))
        self.block = ConvBlock(o, o)

    def forward(self, x):
        return self.block(self.up(x))


class FCBlock(nn.Module):
    def __init__(self, i, o):
        super().__init__()
        self.fc1 = nn.Linear(i, o)
        self.fc2 = nn.Linear(o, o)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


KINDS = ('denoiser', 'time', 'class')


class UNet(nn.Module):
    """kind 'denoiser' (unconditional), 'time' or 'class'; hidden width D."""

    def __init__(self, hidden, kind='denoiser', num_classes=10, channels=1):
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f'kind must be one of {", ".join(KINDS)}, got {kind!r}')
        d = hidden
        self.kind = kind
        self.in_block = ConvBlock(channels, d)
        self.down1 = DownBlock(d, d)
        self.down2 = DownBlock(d, 2 * d)
        self.unflatten = ConvBnGelu(nn.ConvTranspose2d(2 * d, 2 * d, 7, 7, 0))
        self.up1 = UpBlock(4 * d, d)
        self.up2 = UpBlock(2 * d, d)
        self.out_block = ConvBlock(2 * d, d)
        self.out_conv = nn.Conv2d(d, channels, 3, 1, 1)
        if kind != 'denoiser':
            self.t1 = FCBlock(1, 2 * d)
            self.t2 = FCBlock(1, d)
        if kind == 'class':
            self.c1 = FCBlock(num_classes, 2 * d)
            self.c2 = FCBlock(num_classes, d)

    def forward(self, x, t=None, c=None):
        e1 = self.in_block(x)
        e2 = self.down1(e1)
        e3 = self.down2(e2)
        u = self.unflatten(F.gelu(F.avg_pool2d(e3, 7)))
        if self.kind == 'class':
            u = u * self.c1(c)[:, :, None, None]
        if self.kind != 'denoiser':
            u = u + self.t1(t)[:, :, None, None]
        d1 = self.up1(torch.cat([u, e3], 1))
        if self.kind == 'class':
            d1 = d1 * self.c2(c)[:, :, None, None]
        if self.kind != 'denoiser':
            d1 = d1 + self.t2(t)[:, :, None, None]
        d2 = self.up2(torch.cat([d1, e2], 1))
        return self.out_conv(self.out_block(torch.cat([d2, e1], 1)))


def describe(state, metadata):
    """(kind, hidden, num_classes) from the metadata, else from the shapes (as the TypeScript side does)."""
    first = state['in_block.conv1.conv.weight']
    hidden = int(first.shape[0])
    if 'c1.fc1.weight' in state:
        kind, num_classes = 'class', int(state['c1.fc1.weight'].shape[1])
    else:
        kind, num_classes = ('time' if 't1.fc1.weight' in state else 'denoiser'), 10
    if metadata.get('layout', 'torch') != 'torch':
        raise SystemExit(f'metadata "layout" is {metadata["layout"]!r}: export the file with diffusion export --torch first')
    if metadata.get('kind', kind) != kind or int(metadata.get('hidden', hidden)) != hidden:
        raise SystemExit(f'metadata says {metadata.get("kind")} D={metadata.get("hidden")} but the tensors are {kind} D={hidden}')
    return kind, hidden, num_classes


def load_model(path):
    state, metadata = load_safetensors(path)
    kind, hidden, num_classes = describe(state, metadata)
    model = UNet(hidden, kind, num_classes)
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()}, strict=True)
    return model.eval()


def run_forward(model, inputs_path):
    inputs, _ = load_safetensors(inputs_path)
    with torch.no_grad():
        return model(inputs['x'].float(), inputs.get('t'), inputs.get('c'))


def command_parser(description):
    """The command line both PyTorch twins share: --threads and `forward WEIGHTS INPUTS OUT ...`
    (what the TypeScript parity tests call); returns the parser and its subcommands for more."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--threads', type=int, default=1)
    sub = parser.add_subparsers(dest='command', required=True)
    sub.add_parser('forward').add_argument('files', nargs='+', help='WEIGHTS INPUTS OUT, repeated')
    return parser, sub


def forward_triples(parser, files, load, run):
    """WEIGHTS INPUTS OUT, repeated: load each model, run it on the inputs, write its output as "y"."""
    if len(files) % 3 != 0:
        parser.error('forward takes WEIGHTS INPUTS OUT triples')
    for i in range(0, len(files), 3):
        weights, inputs, out = files[i:i + 3]
        save_safetensors(out, {'y': run(load(weights), inputs)})


def metadata_for(kind, hidden, num_classes, extra=None):
    return {'layout': 'torch', 'format': 'pt', 'model': 'diffusion-ts Part B UNet', 'kind': kind,
            'hidden': str(hidden), 'num_classes': str(num_classes), **(extra or {})}


def synthetic_digits(n, generator):
    """Blobs at random places: enough for a few training steps to move every weight and statistic."""
    yy, xx = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing='ij')
    centres = torch.rand(n, 2, generator=generator) * 16 + 6
    d2 = (yy - centres[:, 0, None, None]) ** 2 + (xx - centres[:, 1, None, None]) ** 2
    return torch.exp(-d2 / 8)[:, None], torch.randint(0, 10, (n,), generator=generator)


def train_steps(model, steps, generator, batch=16, T=300):
    """SPEC's objectives: B1 z = x + 0.5 eps -> x; B2 x_t from the linear schedule -> eps."""
    optimizer = torch.optim.Adam(model.parameters(), 1e-3)
    abar = torch.cumprod(1 - torch.linspace(1e-4, 0.02, T), 0)
    model.train()
    for _ in range(steps):
        x, labels = synthetic_digits(batch, generator)
        eps = torch.randn(x.shape, generator=generator)
        if model.kind == 'denoiser':
            loss = ((model(x + 0.5 * eps) - x) ** 2).mean()
        else:
            t = torch.randint(1, T + 1, (batch,), generator=generator)
            a = abar[t - 1][:, None, None, None]
            xt = a.sqrt() * x + (1 - a).sqrt() * eps
            c = F.one_hot(labels, 10).float() if model.kind == 'class' else None
            loss = ((model(xt, (t.float() / T)[:, None], c) - eps) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()


def main(argv):
    parser, sub = command_parser(__doc__)
    init = sub.add_parser('init')
    init.add_argument('--kind', choices=KINDS, required=True)
    init.add_argument('--hidden', type=int, required=True)
    init.add_argument('--seed', type=int, default=0)
    init.add_argument('--train-steps', type=int, default=0)
    init.add_argument('--out', required=True)
    init.add_argument('--inputs')
    init.add_argument('--forward-out')
    count = sub.add_parser('count')
    count.add_argument('--kind', choices=KINDS, required=True)
    count.add_argument('--hidden', type=int, required=True)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    if args.command == 'forward':
        forward_triples(parser, args.files, load_model, run_forward)
    elif args.command == 'init':
        generator = torch.Generator().manual_seed(args.seed)
        torch.manual_seed(args.seed)
        model = train_steps(UNet(args.hidden, args.kind), args.train_steps, generator)
        meta = metadata_for(args.kind, args.hidden, 10, {'source': f'scripts/torch_unets.py init seed {args.seed}, {args.train_steps} training steps'})
        save_safetensors(args.out, model.state_dict(), meta)
        if args.inputs and args.forward_out:
            save_safetensors(args.forward_out, {'y': run_forward(model, args.inputs)})
    else:
        print(sum(p.numel() for p in UNet(args.hidden, args.kind).parameters()))


if __name__ == '__main__':
    main(sys.argv[1:])

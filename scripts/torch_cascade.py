#!/usr/bin/env python3
"""The built-in colour model's networks (Part A's cascade) in PyTorch, with the module and
parameter names of the project's TypeScript networks, so weights move both ways:

  stage I   TextToImageNet = text encoder (src/lib/nn/text-encoder.ts) + CascadeUNet
            (src/lib/nn/cascade-unet.ts): x_t [N, 3, 32, 32], integer timesteps t [N] and token
            ids [N, L] -> the network's output (v or eps, as the config's `prediction` says)
  stage II  CascadeUNet with the low-res input: x_t and the enlarged low-res image [N, 3, H, W],
            t [N] and the augmentation level [N] -> output

A file written by `diffusion export --torch-cascade` holds a state dict in PyTorch layout and, in
its metadata, the stage's `cascade` spec (the TrainConfig's, as JSON), which builds the network:

  net = network_for(json.loads(metadata['cascade'])); net.load_state_dict(state, strict=True)

Needs PyTorch only (safetensors are read and written by scripts/torch_unets.py's few lines).

Usage:
  torch_cascade.py forward WEIGHTS INPUTS OUT [WEIGHTS INPUTS OUT ...]
      build each file's network, load it strictly, run it in eval mode on INPUTS (x, t, and ids
      for stage I or low_res and aug for stage II) and write its output as "y" to OUT
"""
import json
import math
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_unets import command_parser, forward_triples, load_safetensors

PAD_ID = 0  # src/lib/text/tokenizer.ts
PAD_BIAS = -1e4  # src/lib/nn/attention.ts: exp(-1e4) is 0 in float32, and it stays finite


def sinusoidal_features(values, dim):
    """[N, dim]: sin(v w_i) then cos(v w_i), w_i = 10000^(-i / (dim / 2)), in float64 as the TS side."""
    half = dim // 2
    w = torch.exp(-math.log(10000) * torch.arange(half, dtype=torch.float64, device=values.device) / half)
    a = values.to(torch.float64)[:, None] * w[None]
    return torch.cat([torch.sin(a), torch.cos(a)], 1).float()


class ScalarEmbedding(nn.Module):
    """Sinusoidal features -> Linear -> GELU -> Linear (src/lib/nn/embedding.ts)."""

    def __init__(self, feature_dim, out_dim):
        super().__init__()
        self.feature_dim = feature_dim
        self.fc1 = nn.Linear(feature_dim, out_dim)
        self.fc2 = nn.Linear(out_dim, out_dim)

    def forward(self, values):
        features = sinusoidal_features(values.to(self.fc1.weight.device), self.feature_dim)
        return self.fc2(F.gelu(self.fc1(features.to(self.fc1.weight.dtype))))


def heads_attention(q, k, v, heads, bias=None):
    """q [N, Lq, C], k and v [N, Lk, C] -> softmax(q k^T / sqrt(d) + bias) v per head, [N, Lq, C]."""
    n, lq, c = q.shape
    d = c // heads
    split = lambda t: t.reshape(n, t.shape[1], heads, d).transpose(1, 2)
    logits = split(q) @ split(k).transpose(-1, -2) * (1 / math.sqrt(d))
    if bias is not None:
        logits = logits + bias
    return (torch.softmax(logits, -1) @ split(v)).transpose(1, 2).reshape(n, lq, c)


class TransformerLayer(nn.Module):
    """Pre-norm: x += MHA(LN(x)); x += MLP(LN(x))."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(dim, eps=1e-5)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.ln2 = nn.LayerNorm(dim, eps=1e-5)
        self.fc1 = nn.Linear(dim, 4 * dim)
        self.fc2 = nn.Linear(4 * dim, dim)

    def forward(self, x, bias):
        q, k, v = self.qkv(self.ln1(x)).chunk(3, -1)
        x = x + self.proj(heads_attention(q, k, v, self.heads, bias))
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))


class TextEncoder(nn.Module):
    """Word and position embeddings, a small Transformer, attention pooling (src/lib/nn/text-encoder.ts)."""

    def __init__(self, config):
        super().__init__()
        dim = config['dim']
        self.heads = config['heads']
        self.token_embedding = nn.Parameter(torch.randn(config['vocabSize'], dim) * 0.02 * math.sqrt(dim))
        self.position_embedding = nn.Parameter(torch.randn(config['maxTokens'], dim) * 0.02 * math.sqrt(dim))
        for i in range(config['layers']):
            self.add_module(f'layer{i}', TransformerLayer(dim, self.heads))
        self.layers = config['layers']
        self.ln_out = nn.LayerNorm(dim, eps=1e-5)
        self.pool_query = nn.Parameter(torch.randn(dim, 1) / math.sqrt(dim))
        self.pool_proj = nn.Linear(dim, config['pooledDim'])

    def forward(self, ids):
        """ids [N, maxTokens] -> (pooled [N, pooledDim], tokens [N, L, dim], bias [N, L])."""
        bias = (ids == PAD_ID).to(self.token_embedding.dtype) * PAD_BIAS
        x = self.token_embedding[ids] + self.position_embedding
        for i in range(self.layers):
            x = getattr(self, f'layer{i}')(x, bias[:, None, None, :])
        tokens = self.ln_out(x)
        weights = torch.softmax((tokens @ self.pool_query)[..., 0] + bias, -1)
        pooled = (weights[:, None, :] @ tokens)[:, 0]
        return self.pool_proj(pooled), tokens, bias


class ResBlock(nn.Module):
    """h = conv1(GELU(BN1(x))); h = BN2(h) (1 + scale) + shift; out = skip(x) + conv2(GELU(h))."""

    def __init__(self, i, o, emb):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(i)
        self.conv1 = nn.Conv2d(i, o, 3, 1, 1)
        self.film = nn.Linear(emb, 2 * o)
        self.bn2 = nn.BatchNorm2d(o)
        self.conv2 = nn.Conv2d(o, o, 3, 1, 1)
        self.skip = nn.Conv2d(i, o, 1) if i != o else None

    def forward(self, x, emb):
        h = self.conv1(F.gelu(self.bn1(x)))
        scale, shift = self.film(emb)[:, :, None, None].chunk(2, 1)
        h = self.conv2(F.gelu(self.bn2(h) * (1 + scale) + shift))
        return (self.skip(x) if self.skip is not None else x) + h


class Downsample(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, 2, 1)

    def forward(self, x):
        return self.conv(x)


class Upsample(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.conv = nn.ConvTranspose2d(ch, ch, 4, 2, 1)

    def forward(self, x):
        return self.conv(x)


class SpatialAttention(nn.Module):
    """Attention over the pixels, with the text tokens' keys and values appended (src/lib/nn/attention.ts)."""

    def __init__(self, channels, heads, context_dim):
        super().__init__()
        if channels % heads != 0:
            raise ValueError(f'SpatialAttention: {channels} channels do not split into {heads} heads')
        self.heads = heads
        self.norm = nn.BatchNorm2d(channels)
        self.qkv = nn.Linear(channels, 3 * channels)
        self.context_kv = nn.Linear(context_dim, 2 * channels) if context_dim > 0 else None
        self.proj = nn.Linear(channels, channels)

    def forward(self, x, context=None):
        n, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x).flatten(2).transpose(1, 2)).chunk(3, -1)
        bias = None
        if self.context_kv is not None and context is not None:
            tokens, token_bias = context
            ck, cv = self.context_kv(tokens).chunk(2, -1)
            k, v = torch.cat([k, ck], 1), torch.cat([v, cv], 1)
            bias = torch.cat([torch.zeros(n, h * w, device=x.device, dtype=token_bias.dtype), token_bias], 1)[:, None, None, :]
        out = self.proj(heads_attention(q, k, v, self.heads, bias))
        return x + out.transpose(1, 2).reshape(n, c, h, w)


class CascadeUNet(nn.Module):
    """Residual blocks with scale-shift conditioning, attention where configured, skips (src/lib/nn/cascade-unet.ts)."""

    def __init__(self, config):
        super().__init__()
        widths, blocks, channels = config['widths'], config['blocksPerLevel'], config['channels']
        self.config = config
        emb = 4 * widths[0]
        self.time_embed = ScalarEmbedding(config['timeFeatures'], emb)
        self.text_proj = nn.Linear(config['pooledDim'], emb) if config['pooledDim'] > 0 else None
        self.aug_embed = ScalarEmbedding(config['timeFeatures'], emb) if config['lowResInput'] else None
        self.in_conv = nn.Conv2d(2 * channels if config['lowResInput'] else channels, widths[0], 3, 1, 1)

        def attention(width, name):
            heads = max(1, width / config['headDim'])
            if heads != int(heads):
                raise ValueError(f'{name}: width {width} is not a multiple of headDim {config["headDim"]}')
            self.add_module(name, SpatialAttention(width, int(heads), config['contextDim']))
            return name

        # Steps as (kind, module name, attention name or None); the skips' widths in push order.
        self.down, self.mid, self.up = [], [], []
        skips, ch = [widths[0]], widths[0]
        for level, w in enumerate(widths):
            for b in range(blocks):
                self.add_module(f'down{level}_res{b}', ResBlock(ch, w, emb))
                attn = attention(w, f'down{level}_attn{b}') if level in config['attentionLevels'] else None
                self.down.append(('res', f'down{level}_res{b}', attn))
                ch = w
                skips.append(ch)
            if level < len(widths) - 1:
                self.add_module(f'down{level}_sample', Downsample(ch))
                self.down.append(('down', f'down{level}_sample', None))
                skips.append(ch)
        self.mid_res0 = ResBlock(ch, ch, emb)
        mid_attn = attention(ch, 'mid_attn') if config['midAttention'] else None
        self.mid_res1 = ResBlock(ch, ch, emb)
        self.mid = [('res', 'mid_res0', mid_attn), ('res', 'mid_res1', None)]
        for level in range(len(widths) - 1, -1, -1):
            w = widths[level]
            for b in range(blocks + 1):
                self.add_module(f'up{level}_res{b}', ResBlock(ch + skips.pop(), w, emb))
                attn = attention(w, f'up{level}_attn{b}') if level in config['attentionLevels'] else None
                self.up.append(('skip-res', f'up{level}_res{b}', attn))
                ch = w
            if level > 0:
                self.add_module(f'up{level}_sample', Upsample(ch))
                self.up.append(('up', f'up{level}_sample', None))
        self.out_norm = nn.BatchNorm2d(ch)
        self.out_conv = nn.Conv2d(ch, channels, 3, 1, 1)

    def forward(self, x, t, pooled=None, context=None, low_res=None, aug=None):
        emb = self.time_embed(t)
        if self.text_proj is not None:
            emb = emb + self.text_proj(pooled)
        if self.aug_embed is not None:
            emb = emb + self.aug_embed(aug)
        emb = F.gelu(emb)
        h = self.in_conv(torch.cat([x, low_res], 1) if self.aug_embed is not None else x)
        skips = [h]
        for kind, name, attn in self.down + self.mid + self.up:
            module = getattr(self, name)
            if kind in ('down', 'up'):
                h = module(h)
                if kind == 'down':
                    skips.append(h)
                continue
            h = module(torch.cat([h, skips.pop()], 1) if kind == 'skip-res' else h, emb)
            if attn is not None:
                h = getattr(self, attn)(h, context)
            if name.startswith('down'):
                skips.append(h)
        return self.out_conv(F.gelu(self.out_norm(h)))


class TextToImageNet(nn.Module):
    """Stage I: the text encoder ("text.*") and the UNet it conditions ("unet.*"), trained together."""

    def __init__(self, text_config, unet_config):
        super().__init__()
        if unet_config['pooledDim'] != text_config['pooledDim'] or unet_config['contextDim'] != text_config['dim']:
            raise ValueError('TextToImageNet: the UNet and the text encoder disagree on pooledDim or the token width')
        self.text = TextEncoder(text_config)
        self.unet = CascadeUNet(unet_config)

    def forward(self, x, t, ids):
        pooled, tokens, bias = self.text(ids)
        return self.unet(x, t, pooled=pooled, context=(tokens, bias))


def network_for(spec):
    """The stage a cascade spec (TrainConfig.cascade) describes: TextToImageNet with a text encoder, else CascadeUNet."""
    return TextToImageNet(spec['text'], spec['unet']) if spec.get('text') else CascadeUNet(spec['unet'])


def load_network(path):
    state, metadata = load_safetensors(path)
    if metadata.get('layout') != 'torch':
        raise SystemExit(f'{path}: metadata "layout" is {metadata.get("layout")!r}; write it with diffusion export --torch-cascade')
    if 'cascade' not in metadata:
        raise SystemExit(f'{path} has no "cascade" spec in its metadata; write it with diffusion export --torch-cascade')
    net = network_for(json.loads(metadata['cascade']))
    net.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()}, strict=True)
    return net.eval()


def run_forward(net, inputs_path):
    inputs, _ = load_safetensors(inputs_path)
    x, t = inputs['x'].float(), inputs['t']
    with torch.no_grad():
        if isinstance(net, TextToImageNet):
            return net(x, t, inputs['ids'].long())
        return net(x, t, low_res=inputs['low_res'].float(), aug=inputs['aug'])


def main(argv):
    parser, _ = command_parser(__doc__)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    forward_triples(parser, args.files, load_network, run_forward)


if __name__ == '__main__':
    main(sys.argv[1:])

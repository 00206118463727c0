"""PyTorch side of `npm run bench:engine` (run by bench/engine.ts as a subprocess; installs nothing).

Usage: python3 torch_engine.py '<json request>'; prints one JSON line. Requests ({"mode": ...}):
  probe    matmul GFLOP/s (2048, 4096) and a checksum of a seeded 2048 matmul (to compare BLAS settings)
  wgrad    {"channels", "batch", "steps"}: seconds for a 3x3 conv's weight gradient alone (32x32)
  serve    {"measure": "a"|"b"|"c", "batch", "warmup"}: builds the measure's training step, prints
           {"ready": true}, then answers each stdin line {"steps": k} with {"times": [...]} (seconds per
           step) until stdin closes; lets the caller interleave its own steps
  check    {"weights": path, "out": path}: block (a) on the weights/inputs in a safetensors file; writes the
           loss and gradients (x, to_k, to_v) to `out` as safetensors
The modules mirror bench/blocks.ts (same parameter names).
"""
import json
import os
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:
    print(json.dumps({"error": "PyTorch not found"}))
    sys.exit(0)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from torch_safetensors import read_safetensors_f32, write_safetensors  # noqa: E402


def heads(x, h):
    b, l, c = x.shape
    return x.reshape(b, l, h, c // h).transpose(1, 2)


def merge(x):
    b, h, l, d = x.shape
    return x.transpose(1, 2).reshape(b, l, h * d)


def attention(q, k, v):
    logits = (q @ k.transpose(-1, -2)) * (q.shape[-1] ** -0.5)
    return logits.softmax(-1) @ v


class ResnetBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.norm1 = nn.GroupNorm(32, c, 1e-5)
        self.conv1 = nn.Conv2d(c, c, 3, padding=1)
        self.norm2 = nn.GroupNorm(32, c, 1e-5)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        return x + h


class Attention(nn.Module):
    def __init__(self, dim, context_dim, n_heads):
        super().__init__()
        self.n_heads = n_heads
        self.to_q = nn.Linear(dim, dim, bias=False)
        self.to_k = nn.Linear(context_dim, dim, bias=False)
        self.to_v = nn.Linear(context_dim, dim, bias=False)
        self.to_out = nn.ModuleList([nn.Linear(dim, dim), nn.Identity()])

    def forward(self, x, context=None):
        ctx = x if context is None else context
        h = self.n_heads
        o = attention(heads(self.to_q(x), h), heads(self.to_k(ctx), h), heads(self.to_v(ctx), h))
        return self.to_out[0](merge(o))


class GEGLU(nn.Module):
    def __init__(self, dim, inner):
        super().__init__()
        self.proj = nn.Linear(dim, 2 * inner)

    def forward(self, x):
        value, gate = self.proj(x).chunk(2, dim=-1)
        return value * F.gelu(gate)


class FeedForward(nn.Module):
    """diffusers' layout: net.0 = GEGLU, net.1 = dropout (identity), net.2 = Linear."""

    def __init__(self, dim, inner):
        super().__init__()
        self.net = nn.ModuleList([GEGLU(dim, inner), nn.Identity(), nn.Linear(inner, dim)])

    def forward(self, x):
        return self.net[2](self.net[0](x))


class BasicTransformerBlock(nn.Module):
    def __init__(self, dim, context_dim, n_heads):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn1 = Attention(dim, dim, n_heads)
        self.norm2 = nn.LayerNorm(dim)
        self.attn2 = Attention(dim, context_dim, n_heads)
        self.norm3 = nn.LayerNorm(dim)
        self.ff = FeedForward(dim, 4 * dim)

    def forward(self, x, context):
        h = x + self.attn1(self.norm1(x))
        h = h + self.attn2(self.norm2(h), context)
        return h + self.ff(self.norm3(h))


class Transformer2D(nn.Module):
    def __init__(self, c, context_dim, n_heads):
        super().__init__()
        self.norm = nn.GroupNorm(32, c, 1e-6)
        self.proj_in = nn.Linear(c, c)
        self.transformer_blocks = nn.ModuleList([BasicTransformerBlock(c, context_dim, n_heads)])
        self.proj_out = nn.Linear(c, c)

    def forward(self, x, context):
        b, c, h, w = x.shape
        tokens = self.norm(x).reshape(b, c, h * w).transpose(1, 2)
        y = self.proj_out(self.transformer_blocks[0](self.proj_in(tokens), context))
        return x + y.transpose(1, 2).reshape(b, c, h, w)


class UNetLikeBlock(nn.Module):
    def __init__(self, width=320, context_dim=2048, n_heads=5):
        super().__init__()
        self.resnet = ResnetBlock(width)
        self.attn = Transformer2D(width, context_dim, n_heads)

    def forward(self, x, context):
        return self.attn(self.resnet(x), context)


class VitAttention(nn.Module):
    def __init__(self, dim, n_heads):
        super().__init__()
        self.n_heads = n_heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        h = self.n_heads
        return self.proj(merge(attention(heads(q, h), heads(k, h), heads(v, h))))


class VitBlock(nn.Module):
    def __init__(self, dim=768, n_heads=12, mlp=3072):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = VitAttention(dim, n_heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.fc1 = nn.Linear(dim, mlp)
        self.fc2 = nn.Linear(mlp, dim)

    def forward(self, x):
        h = x + self.attn(self.norm1(x))
        return h + self.fc2(F.gelu(self.fc1(self.norm2(h))))


def loss_of(y):
    return (y * y).mean()


# --- modes ---------------------------------------------------------------------------------------------

def probe(_req):
    gflops = {}
    checksum = None
    torch.randn(256, 256) @ torch.randn(256, 256)  # starts the BLAS threads
    for n in (2048, 4096):
        g = torch.Generator().manual_seed(n)
        a = torch.randn(n, n, generator=g)
        b = torch.randn(n, n, generator=g)
        t = time.perf_counter()
        c = a @ b
        best = time.perf_counter() - t
        if checksum is None:
            checksum = float(c.double().abs().sum())
        # A reference (unoptimised) BLAS takes seconds here: one timing is enough, and 4096 is skipped.
        slow = best > 2.0  # under ~9 GFLOP/s
        for _ in range(0 if slow else 3 if n == 2048 else 2):
            t = time.perf_counter()
            a @ b
            best = min(best, time.perf_counter() - t)
        gflops[str(n)] = 2 * n ** 3 / best / 1e9
        if slow:
            break
    return {"gflops": gflops, "checksum": checksum}


def step_fn(measure, batch):
    """Returns a closure running one training step (forward + backward to the measure's gradients)."""
    torch.manual_seed(0)
    if measure in ("a", "b"):
        m = UNetLikeBlock()
        x = torch.randn(batch, 320, 32, 32)
        ctx = torch.randn(batch, 77, 2048)
        if measure == "a":
            for p in m.parameters():
                p.requires_grad_(False)
            wrt = [m.attn.transformer_blocks[0].attn2.to_k.weight, m.attn.transformer_blocks[0].attn2.to_v.weight]
            for p in wrt:
                p.requires_grad_(True)
            x.requires_grad_(True)
            wrt = [x] + wrt
        else:
            wrt = list(m.parameters())
        return lambda: torch.autograd.grad(loss_of(m(x, ctx)), wrt)
    m = VitBlock()
    x = torch.randn(batch, 77, 768)
    wrt = list(m.parameters())
    return lambda: torch.autograd.grad(loss_of(m(x)), wrt)


def timed(f, warmup, steps):
    """Seconds per call of f for `steps` calls after `warmup` untimed ones."""
    for _ in range(warmup):
        f()
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return times


def serve(req):
    f = step_fn(req["measure"], req["batch"])
    timed(f, req["warmup"], 0)
    print(json.dumps({"ready": True, "torch": torch.__version__}), flush=True)
    for line in sys.stdin:
        if line.strip():
            print(json.dumps({"times": timed(f, 0, json.loads(line)["steps"])}), flush=True)
    return None


def wgrad(req):
    """Weight gradient of a 3x3 conv (padding 1) alone: the engine's known weak spot."""
    c, n = req["channels"], req["batch"]
    g0 = torch.Generator().manual_seed(0)
    x = torch.randn(n, c, 32, 32, generator=g0)
    g = torch.randn(n, c, 32, 32, generator=g0)
    w = torch.randn(c, c, 3, 3, generator=g0)

    def f():
        return torch.ops.aten.convolution_backward(g, x, w, None, [1, 1], [1, 1], [1, 1], False, [0, 0], 1, [False, False, True])[1]

    return {"times": timed(f, 1, req["steps"])}


def check(req):
    w = read_safetensors_f32(req["weights"])
    m = UNetLikeBlock()
    m.load_state_dict({k: v for k, v in w.items() if k not in ("x", "context")}, strict=True)
    for p in m.parameters():
        p.requires_grad_(False)
    wk, wv = m.attn.transformer_blocks[0].attn2.to_k.weight, m.attn.transformer_blocks[0].attn2.to_v.weight
    wk.requires_grad_(True)
    wv.requires_grad_(True)
    x = w["x"].clone().requires_grad_(True)
    loss = loss_of(m(x, w["context"]))
    gx, gk, gv = torch.autograd.grad(loss, [x, wk, wv])
    write_safetensors(req["out"], {"loss": loss.detach().reshape(1), "x": gx, "to_k": gk, "to_v": gv})
    return {"ok": True}


def main():
    req = json.loads(sys.argv[1])
    torch.set_num_threads(req.get("threads", 2))
    torch.set_grad_enabled(True)
    out = {"probe": probe, "serve": serve, "wgrad": wgrad, "check": check}[req["mode"]](req)
    if out is None:
        return
    out["torch"] = torch.__version__
    print(json.dumps(out))


if __name__ == "__main__":
    main()

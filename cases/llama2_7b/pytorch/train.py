#!/usr/bin/env python3
"""Train a Llama 2 architecture model on synthetic tokens and report PerfLog events.

Model (Llama 2, as in Meta's reference code): token embedding, n_layers pre-norm
blocks of RMSNorm -> multi-head causal self-attention with rotary position
embeddings (interleaved pairs, theta 10000) -> residual, RMSNorm -> SwiGLU MLP ->
residual, a final RMSNorm and an output projection. No biases. The embeddings are
UNTIED: the output projection is its own dim x vocab matrix, as in Llama 2. The MLP
width follows Llama: 2/3 of 4*dim rounded up to --multiple-of (11008 for dim 4096),
unless --ffn-dim is given. Every shape is a command-line argument, so a preset in
case.yaml is pure configuration.

Training is real: forward, backward and AdamW (betas 0.9/0.95, eps 1e-5, weight decay
on matrices only, gradient clipping), linear warm-up then cosine decay to
--min-lr-ratio * --lr. Only fp32 on CPU for now.

Data: a fixed random sparse first-order Markov chain over the vocabulary; every
token has --branching distinct successors, drawn with Zipf(--zipf) popularity so
some tokens are far more frequent than others, and the next token is one of them
uniformly. The chain comes from --seed and is the same on every rank; each GLOBAL
rank samples its own token stream (seed * 1000003 + 1 + rank), so no two ranks (on
any node) see the same data. An untrained model's loss is near ln(vocab); learning
token frequencies alone brings it to the unigram entropy; a perfect model reaches
ln(branching).

Distributed: with WORLD_SIZE > 1 the ranks join a gloo process group from the
standard environment (MASTER_ADDR, MASTER_PORT, WORLD_SIZE, RANK) and train under
DistributedDataParallel, so gradients are averaged across all ranks every step.
With WORLD_SIZE unset or 1 the script runs as a single process.

Throughput: the first --skip-steps steps (warm-up: allocator, first-touch and
thread-pool start-up) are excluded. Each rank times its remaining steps (data
generation, forward, backward with the gradient all-reduce, optimizer step);

    tokens_per_second = sum over ranks of their measured tokens
                        / max over ranks of their measured time

and tokens_per_second_per_rank = tokens_per_second / WORLD_SIZE.

MFU (PaLM paper, appendix B):

    model_flops_per_token = 6 * N + 12 * L * H * Q * T
    mfu = tokens_per_second * model_flops_per_token / (PERF_PEAK_FLOPS * WORLD_SIZE)

N is the non-embedding parameter count: every parameter except the token-embedding
table (a lookup, no multiply-adds); it includes the output projection and the
RMSNorm weights. L layers, H heads, Q head dimension, T sequence length; 12*L*H*Q*T
is attention's QK^T and AV products, forward and backward, over the full T x T
score matrix (the causal mask is not discounted, as in PaLM). PERF_PEAK_FLOPS is
the peak FLOP/s of ONE rank's device for --dtype; without it no mfu is reported.

PerfLog events (python/perflog.py, stderr): INIT_START, INIT_END, TRAIN_START,
STEP_END (every --log-every steps and the last), TRAIN_END, FINISHED. Every rank
emits FINISHED; all of them carry the same all-reduced global values plus their
own rank_* values, and rank 0's (metadata authoritative=true) is the one to read.

Exit status: 0 on success, 2 when torch cannot be imported, 1 (with a traceback
on stderr) on any other error.
"""

import time

PROCESS_START = time.time()  # e2e_time and init_time start here

import argparse  # noqa: E402  (imports after the clock starts on purpose)
import datetime  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

try:
    import perflog
except ImportError:  # run by hand without PYTHONPATH: use the repo's python/
    sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "python"))
    import perflog

perflog.emit(perflog.INIT_START)

try:
    import torch
    import torch.distributed as dist
    import torch.nn.functional as F
    from torch import nn
    from torch.nn.parallel import DistributedDataParallel
except (ImportError, OSError) as exc:
    print(f"train.py: cannot import torch ({exc}) with Python {sys.executable}; "
          "fix: run scripts/setup-python.sh in the perfctl repository (it creates "
          ".venv with a CPU-only torch) and run this case with .venv/bin/python3",
          file=sys.stderr)
    sys.exit(2)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    model = p.add_argument_group("model")
    model.add_argument("--dim", type=int, default=256)
    model.add_argument("--n-layers", type=int, default=4)
    model.add_argument("--n-heads", type=int, default=4)
    model.add_argument("--vocab-size", type=int, default=1024)
    model.add_argument("--ffn-dim", type=int, default=0,
                       help="SwiGLU hidden width; 0: Llama's rule from --dim")
    model.add_argument("--multiple-of", type=int, default=256)
    model.add_argument("--norm-eps", type=float, default=1e-5)
    train = p.add_argument_group("training")
    train.add_argument("--seq-len", type=int, default=128)
    train.add_argument("--micro-batch", type=int, default=4,
                       help="sequences per rank per step")
    train.add_argument("--steps", type=int, default=40)
    train.add_argument("--lr", type=float, default=3e-3)
    train.add_argument("--min-lr-ratio", type=float, default=0.1)
    train.add_argument("--warmup", type=int, default=5, help="LR warm-up steps")
    train.add_argument("--weight-decay", type=float, default=0.1)
    train.add_argument("--grad-clip", type=float, default=1.0, help="0: off")
    train.add_argument("--seed", type=int, default=1234)
    train.add_argument("--dtype", choices=["fp32"], default="fp32")
    train.add_argument("--branching", type=int, default=4,
                       help="successors per token in the synthetic Markov chain")
    train.add_argument("--zipf", type=float, default=1.0,
                       help="successors are drawn with Zipf(this) popularity")
    report = p.add_argument_group("reporting")
    report.add_argument("--log-every", type=int, default=1)
    report.add_argument("--skip-steps", type=int, default=2,
                        help="first steps excluded from throughput (warm-up)")
    report.add_argument("--final-window", type=int, default=5,
                        help="final_loss is the mean loss of this many last steps")
    report.add_argument("--converge-factor", type=float, default=0.6,
                        help="converged: final_loss < factor * initial_loss")
    report.add_argument("--dist-timeout", type=float, default=300,
                        help="seconds a collective may wait for the other ranks")
    args = p.parse_args()
    if min(args.n_layers, args.n_heads, args.seq_len, args.micro_batch, args.log_every) < 1:
        p.error("--n-layers, --n-heads, --seq-len, --micro-batch, --log-every must be >= 1")
    if args.dim % args.n_heads or (args.dim // args.n_heads) % 2:
        p.error("--dim must be n_heads times an even head dimension")
    if not 0 <= args.skip_steps < args.steps:
        p.error("--skip-steps must be at least 0 and less than --steps")
    if not 1 <= args.final_window <= args.steps:
        p.error("--final-window must be between 1 and --steps")
    if not 1 < args.branching <= args.vocab_size:
        p.error("--branching must be between 2 and --vocab-size")
    return args


# ---------------------------------------------------------------- model

class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(head_dim, seq_len, theta=10000.0):
    """cos and sin of the rotary angles, each of shape (seq_len, head_dim / 2).

    Recomputed every forward pass (microseconds): as module buffers, DDP would
    broadcast them every step.
    """
    inv_freq = 1.0 / theta ** (torch.arange(0, head_dim, 2).float() / head_dim)
    angles = torch.outer(torch.arange(seq_len).float(), inv_freq)
    return angles.cos(), angles.sin()


def apply_rope(x, cos, sin):
    """Rotate the (even, odd) feature pairs of x (batch, heads, seq, head_dim)."""
    even, odd = x[..., 0::2], x[..., 1::2]
    return torch.stack((even * cos - odd * sin, even * sin + odd * cos), -1).flatten(-2)


class Attention(nn.Module):
    def __init__(self, dim, n_heads):
        super().__init__()
        self.n_heads = n_heads
        self.wq = nn.Linear(dim, dim, bias=False)
        self.wk = nn.Linear(dim, dim, bias=False)
        self.wv = nn.Linear(dim, dim, bias=False)
        self.wo = nn.Linear(dim, dim, bias=False)

    def forward(self, x, cos, sin):
        batch, seq, dim = x.shape

        def heads(t):
            return t.view(batch, seq, self.n_heads, -1).transpose(1, 2)

        q = apply_rope(heads(self.wq(x)), cos, sin)
        k = apply_rope(heads(self.wk(x)), cos, sin)
        y = F.scaled_dot_product_attention(q, k, heads(self.wv(x)), is_causal=True)
        return self.wo(y.transpose(1, 2).reshape(batch, seq, dim))


class FeedForward(nn.Module):
    """SwiGLU: w2(silu(w1 x) * w3 x)."""

    def __init__(self, dim, hidden):
        super().__init__()
        self.w1 = nn.Linear(dim, hidden, bias=False)
        self.w2 = nn.Linear(hidden, dim, bias=False)
        self.w3 = nn.Linear(dim, hidden, bias=False)

    def forward(self, x):
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class Block(nn.Module):
    def __init__(self, dim, n_heads, hidden, eps):
        super().__init__()
        self.attention_norm = RMSNorm(dim, eps)
        self.attention = Attention(dim, n_heads)
        self.ffn_norm = RMSNorm(dim, eps)
        self.feed_forward = FeedForward(dim, hidden)

    def forward(self, x, cos, sin):
        h = x + self.attention(self.attention_norm(x), cos, sin)
        return h + self.feed_forward(self.ffn_norm(h))


class Llama(nn.Module):
    def __init__(self, args):
        super().__init__()
        hidden = args.ffn_dim or args.multiple_of * math.ceil(
            int(2 * 4 * args.dim / 3) / args.multiple_of)
        self.tok_embeddings = nn.Embedding(args.vocab_size, args.dim)
        self.layers = nn.ModuleList(
            Block(args.dim, args.n_heads, hidden, args.norm_eps)
            for _ in range(args.n_layers))
        self.norm = RMSNorm(args.dim, args.norm_eps)
        self.output = nn.Linear(args.dim, args.vocab_size, bias=False)
        self.head_dim = args.dim // args.n_heads
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, std=0.02)

    def forward(self, tokens):
        cos, sin = rope_tables(self.head_dim, tokens.shape[1])
        x = self.tok_embeddings(tokens)
        for layer in self.layers:
            x = layer(x, cos, sin)
        return self.output(self.norm(x))


# ---------------------------------------------------------------- data

class MarkovTokens:
    """Token sequences from a fixed random sparse first-order Markov chain."""

    def __init__(self, vocab_size, branching, zipf, chain_seed, stream_seed):
        chain = torch.Generator().manual_seed(chain_seed)
        popularity = torch.arange(1, vocab_size + 1, dtype=torch.float64) ** -zipf
        popularity = popularity[torch.randperm(vocab_size, generator=chain)]
        self.successors = torch.multinomial(  # distinct per row
            popularity.expand(vocab_size, -1), branching, generator=chain)
        self.vocab_size = vocab_size
        self.branching = branching
        self.stream = torch.Generator().manual_seed(stream_seed)

    def batch(self, rows, length):
        tokens = torch.empty(rows, length, dtype=torch.long)
        tokens[:, 0] = torch.randint(self.vocab_size, (rows,), generator=self.stream)
        picks = torch.randint(self.branching, (rows, length - 1), generator=self.stream)
        for i in range(1, length):
            tokens[:, i] = self.successors[tokens[:, i - 1], picks[:, i - 1]]
        return tokens


# ---------------------------------------------------------------- training

def lr_at(step, args):
    """Linear warm-up over --warmup steps, then cosine decay to min-lr-ratio * lr."""
    if step <= args.warmup:
        return args.lr * step / args.warmup
    progress = (step - args.warmup) / max(1, args.steps - args.warmup)
    floor = args.lr * args.min_lr_ratio
    return floor + (args.lr - floor) * 0.5 * (1 + math.cos(math.pi * progress))


def make_optimizer(model, args):
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params if p.dim() >= 2], "weight_decay": args.weight_decay},
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=args.lr, betas=(0.9, 0.95), eps=1e-5)


def peak_flops_from_env():
    raw = os.environ.get("PERF_PEAK_FLOPS", "").strip()
    if not raw:
        return None
    try:
        peak = float(raw)
    except ValueError:
        peak = math.nan
    if not math.isfinite(peak) or peak <= 0:
        raise ValueError(f"PERF_PEAK_FLOPS must be a positive number of FLOP/s, got {raw!r}")
    return peak


def main():
    args = parse_args()
    peak_flops = peak_flops_from_env()
    if os.environ.get("OMP_NUM_THREADS"):
        torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))

    world = int(os.environ.get("WORLD_SIZE", "1"))
    distributed = world > 1
    if distributed:
        dist.init_process_group("gloo", init_method="env://",
                                timeout=datetime.timedelta(seconds=args.dist_timeout))
        rank = dist.get_rank()
    else:
        rank = 0
    try:
        train(args, rank, world, distributed, peak_flops)
    except BaseException:
        if distributed:
            dist.destroy_process_group()
        raise
    if distributed:
        # Every rank leaves its last collective before any rank tears gloo down: a rank
        # that exits while a peer still holds the connection can make gloo's threads
        # abort ("terminate called without an active exception") during shutdown.
        dist.barrier()
        dist.destroy_process_group()
        sys.stdout.flush()
        sys.stderr.flush()
        # Skip interpreter teardown, where torch's C++ destructors can still abort after
        # the process group is gone; every result has been emitted and flushed above.
        os._exit(0)


def train(args, rank, world, distributed, peak_flops):
    torch.manual_seed(args.seed)  # same initial weights everywhere (DDP also broadcasts)
    model = Llama(args)
    n_params = sum(p.numel() for p in model.parameters())
    n_non_embedding = n_params - model.tok_embeddings.weight.numel()
    head_dim = args.dim // args.n_heads
    flops_per_token = (6 * n_non_embedding
                       + 12 * args.n_layers * args.n_heads * head_dim * args.seq_len)
    data = MarkovTokens(args.vocab_size, args.branching, args.zipf, args.seed,
                        args.seed * 1_000_003 + 1 + rank)
    if distributed:
        model = DistributedDataParallel(model)
    optimizer = make_optimizer(model, args)
    tokens_per_step = args.micro_batch * args.seq_len

    init_time = time.time() - PROCESS_START
    perflog.emit(perflog.INIT_END, {
        "parameters": n_params,
        "non_embedding_parameters": n_non_embedding,
        "model_flops_per_token": flops_per_token,
        "world_size": world,
        "loss_floor": math.log(args.branching),
        "init_time": init_time,
    }, config=vars(args), torch_version=torch.__version__,
        num_threads=torch.get_num_threads())
    perflog.emit(perflog.TRAIN_START)

    losses = []
    measured_tokens = 0
    measured_time = 0.0
    train_start = time.perf_counter()
    for step in range(1, args.steps + 1):
        step_start = time.perf_counter()
        lr = lr_at(step, args)
        for group in optimizer.param_groups:
            group["lr"] = lr
        tokens = data.batch(args.micro_batch, args.seq_len + 1)
        logits = model(tokens[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, args.vocab_size),
                               tokens[:, 1:].reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if args.grad_clip > 0:
            nn.utils.clip_grad_norm_(model.parameters(), args.grad_clip)
        optimizer.step()
        loss_value = loss.item()
        step_time = time.perf_counter() - step_start
        if not math.isfinite(loss_value):
            raise FloatingPointError(f"loss is {loss_value} at step {step}")
        losses.append(loss_value)

        timed = step > args.skip_steps
        if timed:
            measured_tokens += tokens_per_step
            measured_time += step_time
            rate = measured_tokens / measured_time
        else:
            rate = tokens_per_step / step_time
        if step % args.log_every == 0 or step == args.steps:
            perflog.emit(perflog.STEP_END, {
                "step": step, "loss": loss_value, "lr": lr,
                "tokens_per_second": rate, "step_time_s": step_time, "timed": timed,
            })
    train_time = time.perf_counter() - train_start
    perflog.emit(perflog.TRAIN_END, {"steps": args.steps, "train_time": train_time})

    # Global values: sums and maxima over all ranks (every rank gets the result).
    final_loss = sum(losses[-args.final_window:]) / args.final_window
    checksum = sum(p.detach().double().sum() for p in model.parameters()).item()
    sums = torch.tensor([losses[0], final_loss, measured_tokens], dtype=torch.float64)
    maxima = torch.tensor([measured_time, train_time, init_time, checksum, -checksum],
                          dtype=torch.float64)
    if distributed:
        dist.all_reduce(sums, op=dist.ReduceOp.SUM)
        dist.all_reduce(maxima, op=dist.ReduceOp.MAX)
    initial_sum, final_sum, tokens_g = sums.tolist()
    initial_g, final_g = initial_sum / world, final_sum / world
    time_g, train_time_g, init_time_g, check_max, neg_check_min = maxima.tolist()

    tokens_per_second = tokens_g / time_g
    value = {
        "tokens_per_second": tokens_per_second,
        "tokens_per_second_per_rank": tokens_per_second / world,
        "final_loss": final_g,
        "initial_loss": initial_g,
        "converged": final_g < args.converge_factor * initial_g,
        "e2e_time": time.time() - PROCESS_START,
        "train_time": train_time_g,
        "init_time": init_time_g,
        "measured_time": time_g,
        "steps": args.steps,
        "measured_steps": args.steps - args.skip_steps,
        "global_batch_tokens": tokens_per_step * world,
        "world_size": world,
        "parameters": n_params,
        "non_embedding_parameters": n_non_embedding,
        "model_flops_per_token": flops_per_token,
        "replicas_in_sync": check_max == -neg_check_min,
        "rank_tokens_per_second": measured_tokens / measured_time,
        "rank_final_loss": final_loss,
    }
    if peak_flops is None:
        value["notes"] = "mfu omitted: PERF_PEAK_FLOPS is not set"
    else:
        value["mfu"] = tokens_per_second * flops_per_token / (peak_flops * world)
    perflog.emit(
        perflog.FINISHED, value,
        authoritative=rank == 0,
        throughput_excludes_steps=args.skip_steps,
        converged_if=f"final_loss < {args.converge_factor} * initial_loss",
        peak_flops_per_rank=peak_flops,
    )
    if rank == 0:
        mfu = f", MFU {value['mfu']:.2%}" if "mfu" in value else ""
        print(f"llama2 {n_params / 1e6:.2f}M params, {world} rank(s), {args.steps} steps: "
              f"loss {initial_g:.3f} -> {final_g:.3f}, "
              f"{tokens_per_second:.0f} tokens/s{mfu}", flush=True)


if __name__ == "__main__":
    main()

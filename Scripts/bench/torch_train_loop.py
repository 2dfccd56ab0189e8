#!/usr/bin/env python3
"""The PyTorch peer of `lian bench time-to-quality`: trains the same GPT-2 model (the module of
torch_train_step.py) on the same `lian data prepare` shards for a wall-clock budget, as Lian's
trainer does: AdamW with decay on >= 2-D weights, linear warmup + cosine decay to a floor sized to
the budget (steps = budget / measured step time: first from a probe, then at the end of warmup from
the run's own steps, as Lian's TimeBudget does), global-norm clipping, random (B, T) windows.
Validation loss is measured on the same fixed, contiguous windows of val.bin as Lian's side, at
the same fractions of the budget; evaluation time is not counted as training time.
Prints one JSON object: the settings and the curve [{seconds, tokens, step, val_loss}].

With --alternate, the training steps take turns with Lian's, so that both sides see the same
machine (on a shared host the speed drifts by tens of percent within minutes): after its probe and
first evaluation, and after each step (and its evaluation, when one is due), the script prints
"turn" and waits for a byte on stdin before the next step; at end of input it runs on alone.
Waiting is not training time.

Optional: needs `pip install torch`. Lian never needs Python at run time.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_train_step import GPT  # noqa: E402


def read_shard(path):
    with open(path, "rb") as f:
        header = f.read(64)
    if header[:8] != b"LIANTOKS":
        sys.exit(f"{path}: not a Lian token shard")
    width = int.from_bytes(header[12:16], "little")
    count = int.from_bytes(header[24:32], "little")
    dtype = np.uint16 if width == 2 else np.uint32
    return np.memmap(path, dtype=dtype, mode="r", offset=64, shape=(count,))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--vocab", type=int, required=True)
    p.add_argument("--layers", type=int, default=6)
    p.add_argument("--heads", type=int, default=6)
    p.add_argument("--width", type=int, default=384)
    p.add_argument("--positions", type=int, default=256)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--context", type=int, default=256)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--min-lr", type=float, default=1e-4)
    p.add_argument("--warmup", type=int, default=50)
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--evals", type=int, default=20)
    p.add_argument("--eval-windows", type=int, default=32)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--alternate", action="store_true", help="take turns with Lian, a step each (see above)")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    train = read_shard(os.path.join(a.data, "train.bin"))
    val = read_shard(os.path.join(a.data, "val.bin"))
    val_windows = [torch.from_numpy(val[i * a.context: i * a.context + a.context + 1].astype(np.int64))
                   for i in range(a.eval_windows)]
    model = GPT(a.vocab, a.layers, a.heads, a.width, a.positions)
    decay = [q for q in model.parameters() if q.dim() >= 2]
    no_decay = [q for q in model.parameters() if q.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                                  lr=a.lr, betas=(0.9, 0.95), eps=1e-8)
    generator = np.random.default_rng(a.seed)

    def batch():
        starts = generator.integers(0, len(train) - a.context - 1, size=a.batch)
        rows = np.stack([train[s: s + a.context + 1].astype(np.int64) for s in starts])
        t = torch.from_numpy(rows)
        return t[:, :-1].contiguous(), t[:, 1:].contiguous()

    def rate(step, total):
        if step < a.warmup:
            return a.lr * (step + 1) / a.warmup
        if step >= total:
            return a.min_lr
        progress = (step - a.warmup) / max(1, total - a.warmup)
        return a.min_lr + (a.lr - a.min_lr) * 0.5 * (1 + math.cos(math.pi * progress))

    def train_step(step, total):
        for g in optimizer.param_groups:
            g["lr"] = rate(step, total)
        optimizer.zero_grad(set_to_none=True)
        x, y = batch()
        loss = model(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        return loss.item()

    def evaluate():
        model.eval()
        with torch.no_grad():
            losses = [model(w[:-1].view(1, -1), w[1:].view(1, -1)).item() for w in val_windows]
        model.train()
        return sum(losses) / len(losses)

    # Probe the step time on a throwaway copy of the state (24 steps, the last 16 timed), as Lian does.
    state = ({k: v.clone() for k, v in model.state_dict().items()}, optimizer.state_dict(), generator.bit_generator.state)
    stamps = []
    for s in range(24):
        train_step(s, 1000)
        stamps.append(time.perf_counter())
    seconds_per_step = (stamps[23] - stamps[7]) / 16
    model.load_state_dict(state[0])
    optimizer.load_state_dict(state[1])
    generator.bit_generator.state = state[2]
    optimizer.state.clear()
    total = max(50, int(a.seconds / seconds_per_step))

    def evaluation_steps(total):
        return {max(1, round(total * (i + 1) / a.evals)) for i in range(a.evals)}

    eval_steps = evaluation_steps(total)
    # Lian's TimeBudget: time the run's own steps from the end of step `first_timed` to the end of
    # warmup (no learning rate so far depends on the total), then fit the rest of the budget.
    sizing_step = max(a.warmup, 20)
    first_timed = min(5, sizing_step // 4)
    clock_at_first_timed = None
    curve = [{"seconds": 0.0, "tokens": 0, "step": 0, "val_loss": evaluate()}]
    alternating = a.alternate

    def end_turn():
        nonlocal alternating
        if alternating:
            print("turn", flush=True)
            if sys.stdin.buffer.read(1) == b"":   # Lian is done: run on alone
                alternating = False

    end_turn()
    clock = 0.0
    step = 0
    while step < total:
        start = time.perf_counter()
        train_step(step, total)
        clock += time.perf_counter() - start
        if step + 1 == first_timed:
            clock_at_first_timed = clock
        if step + 1 == sizing_step and clock_at_first_timed is not None and clock > clock_at_first_timed:
            measured = (clock - clock_at_first_timed) / (sizing_step - first_timed)
            total = sizing_step + max(1, int((a.seconds - clock) / measured))
            eval_steps = {s for s in eval_steps if s <= step + 1} | {s for s in evaluation_steps(total) if s > step + 1}
        if step + 1 in eval_steps:
            curve.append({"seconds": clock, "tokens": (step + 1) * a.batch * a.context, "step": step + 1, "val_loss": evaluate()})
        if step + 1 < total:
            end_turn()
        step += 1
    print(json.dumps({"implementation": "pytorch", "torch_version": torch.__version__, "threads": a.threads,
                      "seconds_per_step_probe": seconds_per_step, "steps": total, "curve": curve}))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Loads model folders that Lian wrote with Hugging Face transformers and checks that transformers
computes the same logits Lian did.

Each folder holds config.json, model.safetensors and lian_case.safetensors (input_ids [B, T] and
Lian's logits [B, T, V]). Usage: check_transformers_load.py FOLDER [FOLDER ...]
Optional (pip install torch transformers); run by the opt-in test in Tests/LianNNTests
(LIAN_CHECK_TRANSFORMERS=1).
"""
import sys

import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM

worst = 0.0
for folder in sys.argv[1:]:
    case = load_file(f"{folder}/lian_case.safetensors")
    model = AutoModelForCausalLM.from_pretrained(folder, torch_dtype=torch.float32)
    model.eval()
    with torch.no_grad():
        logits = model(case["input_ids"].long()).logits
    diff = (logits - case["logits"]).abs().max().item()
    worst = max(worst, diff)
    print(f"{folder}: {type(model).__name__}, max |logits difference| = {diff:.3g}")
sys.exit(0 if worst < 1e-4 else 1)

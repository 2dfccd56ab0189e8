#!/usr/bin/env python3
"""Checks that an adapter Lian saved loads in PEFT and means what Lian means by it: the logits of
PEFT's `PeftModel.from_pretrained(base, ADAPTER)` equal those of the model `lian merge` wrote
(base and adapter fused by Lian), loaded in plain transformers.

Usage: check_peft_adapter.py BASE_FOLDER ADAPTER_FOLDER MERGED_FOLDER
Optional (pip install torch transformers peft). Lian never needs Python at run time.
"""
import sys

import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM

base_dir, adapter_dir, merged_dir = sys.argv[1:4]
base = AutoModelForCausalLM.from_pretrained(base_dir, torch_dtype=torch.float32)
peft_model = PeftModel.from_pretrained(base, adapter_dir).eval()
merged = AutoModelForCausalLM.from_pretrained(merged_dir, torch_dtype=torch.float32).eval()
vocab = merged.config.vocab_size
ids = torch.randint(0, vocab, (2, 24), generator=torch.Generator().manual_seed(0))
with torch.no_grad():
    a = peft_model(ids).logits
    b = merged(ids).logits
    plain = AutoModelForCausalLM.from_pretrained(base_dir, torch_dtype=torch.float32).eval()(ids).logits
diff = (a - b).abs().max().item()
effect = (a - plain).abs().max().item()
print(f"PEFT(base + Lian adapter) vs Lian-merged model: max |logits difference| = {diff:.3g}"
      f" (the adapter itself moves the logits by up to {effect:.3g})")
sys.exit(0 if diff < 1e-4 and effect > 1e-3 else 1)

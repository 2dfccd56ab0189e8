#!/usr/bin/env python3
"""Checks that Hugging Face `tokenizers` loads a tokenizer.json Lian wrote and encodes like Lian.

Usage: lian tokenizer encode --tokenizer T --jsonl IN > OUT; check_tokenizer_hf.py T OUT
(OUT holds {"text", "ids"} lines from Lian). Optional: pip install tokenizers.
"""
import json
import sys

from tokenizers import Tokenizer

tokenizer = Tokenizer.from_file(sys.argv[1])
lines = [json.loads(line) for line in open(sys.argv[2], encoding="utf-8")]
mismatches = 0
for n, line in enumerate(lines):
    ids = tokenizer.encode(line["text"], add_special_tokens=False).ids
    if ids != line["ids"]:
        mismatches += 1
        if mismatches <= 3:
            print(f"line {n}: {line['text'][:60]!r}: HF {ids[:20]} vs Lian {line['ids'][:20]}")
print(f"{len(lines) - mismatches} of {len(lines)} lines identical")
sys.exit(1 if mismatches else 0)

#!/usr/bin/env python3
"""The peers of `lian bench tokenizer`: Hugging Face `tokenizers` training time (byte-level BPE,
same files, vocabulary and minimum frequency) and encoding throughput of `tokenizers` and tiktoken
on the same lines, with 1 and 2 threads. tiktoken is built from a ranks file (it cannot download
its own here): pass --tiktoken-ranks (e.g. from `lian tokenizer train --tiktoken-out`).

Optional: pip install tokenizers tiktoken. Lian never needs Python at run time.
"""
import argparse
import os
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--input", nargs="+", default=["../shared/corpora/en_shakespeare_gut.txt",
                                                        "../shared/corpora/zh_peoplesdaily_199801.txt"])
    parser.add_argument("--vocab-size", type=int, default=8192)
    parser.add_argument("--encode-tokenizer", nargs="*", default=["../shared/oracles/tokenizers/gpt2/tokenizer.json"])
    parser.add_argument("--tiktoken-ranks", help="ranks file for a tiktoken Encoding with the GPT-2 pattern")
    args = parser.parse_args()

    from tokenizers import ByteLevelBPETokenizer, Tokenizer
    start = time.perf_counter()
    trained = ByteLevelBPETokenizer()
    trained.train(args.input, vocab_size=args.vocab_size, min_frequency=2, special_tokens=["<|endoftext|>"], show_progress=False)
    print(f"train tokenizers ByteLevelBPE vocab {args.vocab_size}: {time.perf_counter() - start:.2f} s")

    lines = [line for path in args.input for line in open(path, encoding="utf-8").read().split("\n")]
    megabytes = sum(len(l.encode()) for l in lines) / 1e6
    for threads in (1, 2):
        os.environ["RAYON_NUM_THREADS"] = str(threads)
    candidates = [("tokenizers bbpe (trained above)", trained._tokenizer)] + [(p, Tokenizer.from_file(p)) for p in args.encode_tokenizer]
    for name, tok in candidates:
        # tokenizers parallelises encode_batch with rayon; its thread count is fixed at the first
        # parallel call, so 1 thread is measured with encode() in a loop and 2 with encode_batch.
        start = time.perf_counter()
        for line in lines:
            tok.encode(line, add_special_tokens=False)
        print(f"encode {name}, 1 thread: {megabytes / (time.perf_counter() - start):.2f} MB/s")
        start = time.perf_counter()
        tok.encode_batch(lines, add_special_tokens=False)
        print(f"encode {name}, all threads (encode_batch): {megabytes / (time.perf_counter() - start):.2f} MB/s")

    if args.tiktoken_ranks:
        import base64
        import tiktoken
        ranks = {}
        for line in open(args.tiktoken_ranks, encoding="ascii"):
            if line.strip():
                token, rank = line.split()
                ranks[base64.b64decode(token)] = int(rank)
        pattern = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
        enc = tiktoken.Encoding("ranks", pat_str=pattern, mergeable_ranks=ranks, special_tokens={})
        for threads in (1, 2):
            start = time.perf_counter()
            enc.encode_ordinary_batch(lines, num_threads=threads)
            print(f"encode tiktoken ({args.tiktoken_ranks}), {threads} thread(s): {megabytes / (time.perf_counter() - start):.2f} MB/s")


if __name__ == "__main__":
    main()

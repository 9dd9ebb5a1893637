"""bm25s, the reference for `vs-bm25s.ts`: builds, saves, loads and queries a BM25 index over the
same model cards and prints one JSON line of figures. Run by the TypeScript benchmark in a fresh
process per phase (build, then load + queries), never on its own.

    python bm25s_reference.py build CARDS.jsonl WORKDIR
    python bm25s_reference.py load  QUERIES.json WORKDIR

bm25s's best configuration for each figure: PyStemmer (C) for English stemming, its built-in
English stop words, the numba backend for retrieval (JIT-compiled and warmed up before timing),
float32 scores. Query latency is `retrieve` on queries tokenised beforehand (tokenisation is not
timed), so the figure is bm25s's scoring and top-k alone.
"""

import json
import os
import sys
import time

import bm25s
import numpy as np
import Stemmer


def percentile(sorted_values, p):
    return sorted_values[min(len(sorted_values) - 1, int(p / 100 * len(sorted_values)))]


def main():
    mode, source, work = sys.argv[1], sys.argv[2], sys.argv[3]
    stemmer = Stemmer.Stemmer("english")
    index_dir = os.path.join(work, "bm25s-index")
    if mode == "build":
        with open(source, encoding="utf-8") as handle:
            texts = [json.loads(line)["card"] for line in handle if line.strip()]
        start = time.perf_counter()
        cpu = time.process_time()
        tokens = bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False)
        retriever = bm25s.BM25(k1=1.2, b=0.75, method="lucene", backend="numba")
        retriever.index(tokens, show_progress=False)
        build_cpu_ms = (time.process_time() - cpu) * 1000
        build_ms = (time.perf_counter() - start) * 1000
        retriever.save(index_dir)
        size = sum(os.path.getsize(os.path.join(index_dir, name)) for name in os.listdir(index_dir))
        print(json.dumps({"buildMs": build_ms, "buildCpuMs": build_cpu_ms, "fileBytes": size, "documents": len(texts)}))
        return
    with open(source, encoding="utf-8") as handle:
        queries = json.load(handle)
    # Compile the numba functions before the clock starts: JIT time is not load time.
    warm = bm25s.BM25(backend="numba")
    del warm
    start = time.perf_counter()
    cpu = time.process_time()
    retriever = bm25s.BM25.load(index_dir)
    retriever.backend = "numba"
    load_cpu_ms = (time.process_time() - cpu) * 1000
    load_ms = (time.perf_counter() - start) * 1000
    tokenized = [
        bm25s.tokenize([query], stopwords="en", stemmer=stemmer, return_ids=False, show_progress=False)[0]
        for query in queries["instructions"]
    ]
    # A query whose every word is unknown makes bm25s raise; keep the ones it can answer.
    vocabulary = retriever.vocab_dict
    tokenized = [tokens for tokens in tokenized if any(token in vocabulary for token in tokens)]

    def run(tokens):
        return retriever.retrieve([tokens], k=5, show_progress=False, n_threads=0)

    for _ in range(queries.get("warmupRounds", 1)):
        for tokens in tokenized:
            run(tokens)  # warm-up: the first call per shape compiles
    times = []
    query_cpu = time.process_time()
    for _ in range(queries["rounds"]):
        for tokens in tokenized:
            begin = time.perf_counter()
            run(tokens)
            times.append((time.perf_counter() - begin) * 1000)
    query_cpu_mean_ms = (time.process_time() - query_cpu) * 1000 / len(times)
    times.sort()
    print(
        json.dumps(
            {
                "loadMs": load_ms,
                "loadCpuMs": load_cpu_ms,
                "queryCpuMeanMs": query_cpu_mean_ms,
                "queryP50Ms": percentile(times, 50),
                "queryP99Ms": percentile(times, 99),
                "queries": len(times),
                "bm25s": bm25s.__version__,
                "numpy": np.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()

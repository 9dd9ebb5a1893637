"""sacrebleu's side of packages/evaluator/bench/metrics.ts: chrF++ over the same pairs.

Usage: python sacrebleu_chrf.py PAIRS_JSON RUNS
Prints one JSON object: sacrebleu's version, the corpus score, every sentence score (for the
bit-identical check on the TypeScript side) and the median time of each way of scoring:
- corpus: one CHRF(word_order=2).corpus_score over all pairs;
- sentence_score: one CHRF object, sentence_score per pair (sacrebleu's fastest per-pair path);
- sentence_chrf: sacrebleu.sentence_chrf per pair (its one-call function, a new CHRF each call).
Times are medians of RUNS, wall clock and CPU time of this process.
"""
import json
import statistics
import sys
import time

import sacrebleu
from sacrebleu.metrics import CHRF

pairs = json.load(open(sys.argv[1], encoding="utf-8"))
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
references = [pair[0] for pair in pairs]
hypotheses = [pair[1] for pair in pairs]
metric = CHRF(word_order=2)


def timed(fn):
    """The result, the median wall time and the median CPU time of this process (seconds)."""
    times = []
    cpu_times = []
    result = None
    for _ in range(runs):
        started, cpu = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - started)
        cpu_times.append(time.process_time() - cpu)
    return result, statistics.median(times), statistics.median(cpu_times)


corpus, corpus_s, corpus_cpu = timed(lambda: metric.corpus_score(hypotheses, [references]).score)
scores, sentence_score_s, sentence_score_cpu = timed(lambda: [metric.sentence_score(h, [r]).score for h, r in zip(hypotheses, references)])
_, sentence_chrf_s, sentence_chrf_cpu = timed(lambda: [sacrebleu.sentence_chrf(h, [r], word_order=2).score for h, r in zip(hypotheses, references)])
print(json.dumps({
    "version": sacrebleu.__version__,
    "corpus": corpus,
    "sentenceScores": scores,
    "seconds": {"corpus": corpus_s, "sentence_score": sentence_score_s, "sentence_chrf": sentence_chrf_s},
    "cpuSeconds": {"corpus": corpus_cpu, "sentence_score": sentence_score_cpu, "sentence_chrf": sentence_chrf_cpu},
}))

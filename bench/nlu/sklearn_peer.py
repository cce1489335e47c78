#!/usr/bin/python3
"""scikit-learn peer for the Parley NLU benchmark (bench/nlu).

Reads one JSON job file written by bench/nlu/main.go:

    {"train": [[text, label], ...],
     "eval": {"val": [text, ...], "test": [text, ...]},
     "latency": [text, ...],
     "seed": 1}

trains TF-IDF (word 1-2 grams + char_wb 2-5 grams, sublinear tf, in a
FeatureUnion) + LinearSVC(C=0.5), and prints ONE JSON object on stdout:

    {"system": "scikit-learn", "sklearn_version": "...",
     "train_seconds": s, "model_bytes": n,
     "latency_us": {"p50": us, "p99": us, "n": n},
     "predictions": {"val": {"label": [...], "score": [...]}, "test": ...}}

label is the argmax class, score its LinearSVC decision value. The Go side
computes every metric from these, with the same code for every system.
train_seconds covers fit plus pickling the model (what a saved model costs),
not the interpreter start or the import of scikit-learn. Latency is
decision_function([text]) for one message at a time, after one warm-up call.

Run it as /usr/bin/python3 with Debian's python3-sklearn.
"""

import json
import math
import pickle
import sys
import time

import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC


def build_pipeline(seed):
    features = FeatureUnion([
        ("word", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True)),
        ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)),
    ])
    return Pipeline([("features", features), ("svm", LinearSVC(C=0.5, random_state=seed))])


def nearest_rank(sorted_values, p):
    """Percentile by nearest rank: the smallest sample >= p% of the samples."""
    if not sorted_values:
        return 0.0
    k = max(int(math.ceil(p / 100.0 * len(sorted_values))) - 1, 0)
    return sorted_values[min(k, len(sorted_values) - 1)]


def predict(pipeline, texts):
    if not texts:
        return {"label": [], "score": []}
    scores = pipeline.decision_function(texts)
    classes = pipeline.classes_
    if scores.ndim == 1:  # two classes: one column, positive means classes_[1]
        labels = [classes[1] if s >= 0 else classes[0] for s in scores]
        top = [abs(float(s)) for s in scores]
    else:
        best = scores.argmax(axis=1)
        labels = [classes[i] for i in best]
        top = [float(scores[r, i]) for r, i in enumerate(best)]
    return {"label": [str(x) for x in labels], "score": top}


def latency(pipeline, texts):
    if not texts:
        return {"p50": 0.0, "p99": 0.0, "n": 0}
    pipeline.decision_function([texts[0]])  # warm-up
    samples = []
    for text in texts:
        start = time.perf_counter_ns()
        pipeline.decision_function([text])
        samples.append((time.perf_counter_ns() - start) / 1000.0)
    samples.sort()
    return {"p50": nearest_rank(samples, 50), "p99": nearest_rank(samples, 99), "n": len(samples)}


def run(job):
    train = job["train"]
    texts = [item[0] for item in train]
    labels = [item[1] for item in train]
    pipeline = build_pipeline(int(job.get("seed", 1)))
    start = time.perf_counter()
    pipeline.fit(texts, labels)
    blob = pickle.dumps(pipeline, protocol=pickle.HIGHEST_PROTOCOL)
    train_seconds = time.perf_counter() - start
    return {
        "system": "scikit-learn",
        "sklearn_version": sklearn.__version__,
        "train_seconds": train_seconds,
        "model_bytes": len(blob),
        "latency_us": latency(pipeline, job.get("latency", [])),
        "predictions": {name: predict(pipeline, split) for name, split in job.get("eval", {}).items()},
    }


def main(argv):
    if len(argv) != 2:
        print("usage: sklearn_peer.py JOB.json", file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        job = json.load(f)
    json.dump(run(job), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

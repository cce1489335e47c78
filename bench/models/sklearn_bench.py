"""Time scikit-learn on the data bench/models wrote; print one JSON object.

Run by `go run ./bench/models`, which writes the data as raw little-endian
float64 / int64 files and passes the shapes and settings as JSON in argv[1].
The settings mirror the Go side exactly (see main.go).
"""
import json
import os
import sys
import time
import warnings

import numpy as np
import sklearn
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier

warnings.simplefilter("ignore")  # iteration limits are reported, not warned


def main():
    cfg = json.loads(sys.argv[1])
    d = cfg["dir"]
    n, nt, f = cfg["n_train"], cfg["n_test"], cfg["features"]
    Xtr = np.fromfile(os.path.join(d, "x_train.f64"), dtype="<f8").reshape(n, f)
    ytr = np.fromfile(os.path.join(d, "y_train.i64"), dtype="<i8")
    Xte = np.fromfile(os.path.join(d, "x_test.f64"), dtype="<f8").reshape(nt, f)
    yte = np.fromfile(os.path.join(d, "y_test.i64"), dtype="<i8")

    models = {
        "logreg": lambda: LogisticRegression(C=cfg["C"]),
        "svm": lambda: LinearSVC(C=cfg["svm_C"], random_state=cfg["seed"]),
        "tree": lambda: DecisionTreeClassifier(max_depth=cfg["tree_depth"],
                                               random_state=cfg["seed"]),
        "kmeans": lambda: KMeans(n_clusters=cfg["k"], n_init=cfg["n_init"],
                                 random_state=cfg["seed"]),
        "pca": lambda: PCA(n_components=cfg["pca_components"], svd_solver="full"),
    }
    out = {"sklearn": sklearn.__version__, "results": {}}
    for name in cfg["models"]:
        m = models[name]()
        t0, c0 = time.perf_counter(), time.process_time()
        if name in ("kmeans", "pca"):
            m.fit(Xtr)
        else:
            m.fit(Xtr, ytr)
        train = time.perf_counter() - t0
        train_cpu = time.process_time() - c0
        predict = float("inf")
        for _ in range(cfg["repeat"]):
            t0 = time.perf_counter()
            if name == "pca":
                m.transform(Xte)
            else:
                pred = m.predict(Xte)
            predict = min(predict, time.perf_counter() - t0)
        r = {"train_s": train, "train_cpu_s": train_cpu, "predict_s": predict}
        if name in ("logreg", "svm", "tree"):
            r["accuracy"] = float((pred == yte).mean())
        if name in ("logreg", "svm", "kmeans"):
            r["iterations"] = int(np.max(m.n_iter_))
        if name == "kmeans":
            r["quality"] = float(m.inertia_)
        if name == "pca":
            r["quality"] = float(m.explained_variance_ratio_.sum())
        out["results"][name] = r
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Generate the scikit-learn reference data the Go tests in package models read.

How the goldens were made
-------------------------
    cd models/testdata && /usr/bin/python3 make_reference.py

with Debian's python3-sklearn (scikit-learn 1.2.1, numpy 1.24, scipy 1.10). Every
dataset is generated with a fixed random_state, written as CSV with 5 significant
digits, READ BACK from that CSV, and only then fitted, so Go and scikit-learn see
exactly the same numbers. In every CSV the last column is the integer label (or 0
for unlabelled data); rows are already shuffled, the first `n_train` rows are the
training set and the rest the test set (n_train is in reference.json).

Datasets (all small; the whole testdata folder stays well under 200 KB):
  binary.csv  make_classification, 2 classes, 8 features
  multi.csv   make_classification, 4 classes, 10 features
  blobs.csv   make_blobs, 4 centres, 5 features (k-means, PCA)
  support.csv a support-ticket-like table: one-hot tier (bronze/silver/gold), one-hot
              intent (question/order/complaint), tenure in years, sentiment score;
              label priority (normal/high/urgent) from hand-written rules plus noise

Models (reference.json, one entry per case):
  LogisticRegression(lbfgs, C given, tol=1e-10, max_iter=10000): coef_, intercept_,
      predict_proba on the test rows, test accuracy. `columns` lists the feature
      columns used (support.csv drops one level of each one-hot group, the usual
      dummy coding, which keeps the problem well conditioned). L-BFGS stops on a
      relative loss change of 2.2e-9 whatever tol says, so the script refits with
      newton-cg and checks both agree within 3e-4 of the largest coefficient:
      the goldens are the optimum, not an early stop.
  LinearSVC(squared hinge, C given, tol=1e-10, max_iter=100000): coef_, intercept_,
      decision_function on the test rows, test accuracy.
  DecisionTreeClassifier(random_state=0..19): scikit-learn visits features in a
      random order and so breaks exact ties between equally good splits at
      random; on small nodes of a full tree that changes the tree. For each
      statistic (node_count, max_depth, n_leaves, feature_importances_, train
      and test accuracy) the file holds the min and max over the 20 seeds, and
      the Go tree must fall in that range (with the stated slack).
  KMeans(k-means++, n_init=10, random_state=0): inertia_.
  PCA(svd_solver='full'): explained_variance_, explained_variance_ratio_,
      components_.

Tolerances the Go tests use are written next to each comparison in
reference_test.go.
"""
import json
import os
import warnings

import numpy as np
import sklearn
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs, make_classification
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier

HERE = os.path.dirname(os.path.abspath(__file__))


def write_csv(name, X, y, header):
    path = os.path.join(HERE, name)
    with open(path, "w") as f:
        f.write(",".join(header) + "\n")
        for row, label in zip(X, y):
            f.write(",".join("%.5g" % v for v in row) + ",%d\n" % label)
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    return data[:, :-1], data[:, -1].astype(int)


def support_tickets(n, seed):
    rng = np.random.RandomState(seed)
    tier = rng.choice(3, size=n, p=[0.5, 0.3, 0.2])  # bronze, silver, gold
    intent = rng.choice(3, size=n, p=[0.5, 0.3, 0.2])  # question, order, complaint
    tenure = rng.randint(0, 61, size=n) / 12.0  # years, in whole months
    sentiment = np.round(rng.uniform(-1, 1, size=n), 1)
    y = np.zeros(n, dtype=int)  # normal
    y[(intent == 1) & (tenure > 2)] = 1  # high
    y[(intent == 2) & (sentiment < 0)] = 1
    y[(intent == 2) & (tier == 2)] = 2  # urgent
    y[(intent == 2) & (sentiment < -0.5)] = 2
    noise = rng.uniform(size=n) < 0.05
    y[noise] = rng.randint(0, 3, size=noise.sum())
    X = np.column_stack([
        tier == 0, tier == 1, tier == 2,
        intent == 0, intent == 1, intent == 2,
        tenure, sentiment,
    ]).astype(float)
    header = ["tier=bronze", "tier=silver", "tier=gold",
              "intent=question", "intent=order", "intent=complaint",
              "tenure_years", "sentiment", "label"]
    return X, y, header


def split(X, y, n_train):
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


def main():
    ref = {"sklearn_version": sklearn.__version__, "datasets": {}, "cases": []}

    X, y = make_classification(n_samples=500, n_features=8, n_informative=5,
                               n_redundant=1, flip_y=0.03, random_state=7)
    X, y = write_csv("binary.csv", X, y, ["f%d" % i for i in range(8)] + ["label"])
    ref["datasets"]["binary"] = {"file": "binary.csv", "n_train": 300}

    X, y = make_classification(n_samples=700, n_features=10, n_informative=6,
                               n_redundant=2, n_classes=4, n_clusters_per_class=1,
                               flip_y=0.02, random_state=11)
    X, y = write_csv("multi.csv", X, y, ["f%d" % i for i in range(10)] + ["label"])
    ref["datasets"]["multi"] = {"file": "multi.csv", "n_train": 500}

    X, y = make_blobs(n_samples=300, centers=4, n_features=5, cluster_std=1.5,
                      random_state=3)
    X, y = write_csv("blobs.csv", X, y, ["f%d" % i for i in range(5)] + ["label"])
    ref["datasets"]["blobs"] = {"file": "blobs.csv", "n_train": 300}

    X, y, header = support_tickets(500, 5)
    X, y = write_csv("support.csv", X, y, header)
    ref["datasets"]["support"] = {"file": "support.csv", "n_train": 350}

    def load(name):
        d = ref["datasets"][name]
        data = np.loadtxt(os.path.join(HERE, d["file"]), delimiter=",", skiprows=1)
        return split(data[:, :-1], data[:, -1].astype(int), d["n_train"])

    lr_cases = [("binary", 1.0, None), ("multi", 0.5, None),
                ("support", 2.0, [1, 2, 4, 5, 6, 7])]
    for name, C, cols in lr_cases:
        Xtr, ytr, Xte, yte = load(name)
        if cols is not None:
            Xtr, Xte = Xtr[:, cols], Xte[:, cols]
        m = LogisticRegression(C=C, tol=1e-10, max_iter=10000).fit(Xtr, ytr)
        with warnings.catch_warnings():
            # newton-cg this tight warns about line searches near the optimum.
            warnings.simplefilter("ignore")
            check = LogisticRegression(C=C, tol=1e-8, max_iter=10000,
                                       solver="newton-cg").fit(Xtr, ytr)
        scale = np.abs(m.coef_).max()
        gap = max(np.abs(m.coef_ - check.coef_).max(),
                  np.abs(m.intercept_ - check.intercept_).max())
        print("logreg %s: lbfgs vs newton-cg gap %.2g (scale %.3g)" % (name, gap, scale))
        assert gap <= 3e-4 * scale, "lbfgs not converged on %s: %g" % (name, gap)
        ref["cases"].append({
            "model": "logreg", "dataset": name, "C": C,
            "columns": cols or list(range(Xtr.shape[1])),
            "coef": m.coef_.tolist(), "intercept": m.intercept_.tolist(),
            "proba": m.predict_proba(Xte).tolist(),
            "test_accuracy": m.score(Xte, yte),
        })

    for name, C in [("binary", 1.0), ("multi", 0.1)]:
        Xtr, ytr, Xte, yte = load(name)
        m = LinearSVC(C=C, tol=1e-10, max_iter=100000, random_state=0).fit(Xtr, ytr)
        dec = m.decision_function(Xte)
        if dec.ndim == 1:
            dec = dec[:, None]
        ref["cases"].append({
            "model": "svm", "dataset": name, "C": C,
            "coef": m.coef_.tolist(), "intercept": m.intercept_.tolist(),
            "decision": dec.tolist(),
            "test_accuracy": m.score(Xte, yte),
        })

    trees = [
        ("multi", "gini", 4, 2, 1),
        ("multi", "entropy", 6, 10, 5),
        ("binary", "gini", None, 2, 1),
        ("support", "gini", 3, 2, 5),
        ("support", "entropy", None, 20, 5),
    ]
    for name, crit, depth, mss, msl in trees:
        Xtr, ytr, Xte, yte = load(name)
        stats = {"node_count": [], "depth": [], "leaves": [], "importances": [],
                 "train_accuracy": [], "test_accuracy": []}
        for seed in range(20):
            m = DecisionTreeClassifier(criterion=crit, max_depth=depth,
                                       min_samples_split=mss,
                                       min_samples_leaf=msl,
                                       random_state=seed).fit(Xtr, ytr)
            stats["node_count"].append(int(m.tree_.node_count))
            stats["depth"].append(int(m.get_depth()))
            stats["leaves"].append(int(m.get_n_leaves()))
            stats["importances"].append(m.feature_importances_)
            stats["train_accuracy"].append(m.score(Xtr, ytr))
            stats["test_accuracy"].append(m.score(Xte, yte))
        case = {"model": "tree", "dataset": name, "criterion": crit,
                "max_depth": depth or 0, "min_samples_split": mss,
                "min_samples_leaf": msl}
        for key, vals in stats.items():
            vals = np.array(vals)
            case[key + "_range"] = [vals.min(axis=0).tolist(),
                                    vals.max(axis=0).tolist()]
        ref["cases"].append(case)

    for name, k in [("blobs", 4), ("blobs", 2), ("multi", 4)]:
        Xtr, _, _, _ = load(name)
        m = KMeans(n_clusters=k, n_init=10, random_state=0).fit(Xtr)
        ref["cases"].append({"model": "kmeans", "dataset": name, "k": k,
                             "inertia": float(m.inertia_)})

    for name, nc in [("blobs", 0), ("multi", 3)]:
        Xtr, _, _, _ = load(name)
        m = PCA(n_components=nc or None, svd_solver="full").fit(Xtr)
        ref["cases"].append({
            "model": "pca", "dataset": name, "components": nc,
            "explained_variance": m.explained_variance_.tolist(),
            "explained_variance_ratio": m.explained_variance_ratio_.tolist(),
            "component_vectors": m.components_.tolist(),
        })

    with open(os.path.join(HERE, "reference.json"), "w") as f:
        json.dump(ref, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()

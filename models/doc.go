// Package models holds Parley's classic learners: logistic regression,
// linear SVM, CART decision tree, k-means and PCA. Later stages build
// features from the CRM and conversations (tier, intent, sentiment, open
// tickets, ...) and use these to route conversations to a queue, score
// satisfaction, and explain either to an agent.
//
// # What each learner is for
//
//   - LogisticRegression: calibrated class probabilities (satisfaction
//     scores, routing confidence). Binary or multinomial, L2-regularised,
//     trained with L-BFGS on the same objective as scikit-learn's
//     LogisticRegression(solver="lbfgs"); C is its C (1/lambda).
//   - LinearSVM: a fast, strong linear classifier when only the ranking of
//     classes matters (decision values, no probabilities). Squared hinge by
//     default (LinearSVC's default) or hinge; one-vs-rest; dual coordinate
//     descent as in LIBLINEAR, whose intercept is regularised.
//   - DecisionTree: routing rules people can read. Gini or entropy, depth
//     and sample limits, feature importances, Rules() prints the tree as
//     "if tier=gold and intent=complaint -> urgent (12 samples, 92%)" with
//     caller-supplied names, and Explain(x) returns one decision's path.
//   - KMeans: grouping without labels (k-means++ seeding, restarts).
//   - PCA: inspecting or compressing dense features.
//
// The supervised learners share the Classifier interface (Fit, Predict,
// Dims, Save, Load); LogisticRegression and DecisionTree also satisfy
// ProbaClassifier. Inputs are rows of float64 features, labels are class
// indices 0..k-1.
//
// # Errors
//
// Every function returns an error rather than panicking, wrapped with the
// operation ("decision tree fit: ...") around one of the sentinel errors in
// errors.go: ErrEmpty (no rows or no features), ErrNonFinite (NaN or ±Inf
// anywhere), ErrDimension (ragged rows, label count, wrong width at predict
// time, wrong number of names), ErrLabel (negative label or a class in
// 0..k-1 without samples), ErrSingleClass, ErrTooFewSamples (k-means with
// fewer distinct points than K, PCA with one row), ErrParam (bad
// hyperparameter), ErrNotFitted, and for Load: ErrFormat (not a model or
// corrupt), ErrKind (another model kind) and ErrVersion (another format
// version).
//
// # Persistence
//
// Save writes one JSON document: {"format":"parley-model","kind":...,
// "version":1,"model":{...}} with float64 values written exactly, so a
// loaded model predicts bit for bit like the saved one. Load checks kind,
// version and the model's internal consistency (shapes, finite weights, a
// well-formed tree) before replacing the receiver; on error the receiver is
// unchanged. LoadClassifier loads any saved classifier without knowing its
// kind. Reads are capped at 256 MiB.
//
// # Determinism and concurrency
//
// Training is reproducible: LogisticRegression and PCA draw no random
// numbers; LinearSVM (sample order), DecisionTree (feature order, which
// breaks ties between equally good splits) and KMeans (seeding) draw only
// from their Seed field. Same Seed and data give an identical model.
// A fitted or loaded model is read-only: its query methods may be called
// from many goroutines at once; Fit and Load must not overlap other calls
// on the same value. LinearSVM trains its one-vs-rest problems in parallel
// and LogisticRegression sums its loss over fixed chunks of rows in
// parallel; neither result depends on the number of cores.
//
// # Agreement with scikit-learn
//
// testdata/make_reference.py (scikit-learn 1.2.1) writes fixed datasets and
// reference outputs; reference_test.go checks logistic regression
// coefficients within 1e-3 of the largest coefficient and probabilities
// within 1e-4, SVM weights and decision values within 1% of the largest and
// sign agreement >= 99%, tree statistics inside the range scikit-learn gives
// over 20 seeds, k-means inertia within 1%, PCA variance ratios within 1e-6,
// and accuracies within one percentage point. bench/models times both on
// the same data.
//
// # Caveats
//
//   - Features are not scaled for you. Logistic regression and the SVM
//     converge slower (and the SVM's regularised intercept matters more) on
//     features of very different scales: standardise first, or use PCA.
//   - Hitting MaxIter is not an error (scikit-learn only warns): check
//     Iterations() when it matters.
//   - Labels must be dense 0..k-1; map sparse label ids first. A class
//     without samples is an error, not an all-zero column.
//   - The tree has no pruning, class weights or missing-value handling;
//     0/1 features are recognised from the training data and printed as
//     "name" / "not name".
//   - k-means is Lloyd's algorithm on dense rows, one goroutine; empty
//     clusters are re-seeded with the farthest points.
//   - PCA eigendecomposes the d×d scatter matrix when there are more rows
//     than features (O(n·d²) time, one copy of X in memory) and takes a
//     thin SVD otherwise; it has no whitening or randomised solver.
//   - Everything works on dense [][]float64; there is no sparse input.
package models

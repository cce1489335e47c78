// Command nlu benchmarks Parley's intent classifier against two peers,
// fastText and scikit-learn, on CLINC150 (full), Banking77 and the Bitext
// customer-support sample, in one run on the same splits, and prints one
// Markdown table.
//
//	go run ./bench/nlu [-datasets DIR] [-only clinc150|banking77|bitext] [-skip-parley] [-out FILE]
//
// It owns the orchestration only: Parley is trained and evaluated through the
// real "bot train" and "bot eval --json" commands (the binary is built once),
// fastText through its CLI, scikit-learn through sklearn_peer.py beside this
// file. Every peer metric is computed here from the peers' predictions, with
// the definitions "bot eval --json" uses, so the rows are comparable; see
// README.md for the columns and the out-of-scope calibration rule.
//
// Caveats: converted data is written only to a temporary folder, which is
// removed at the end (a fastText model with two-word n-grams is ~800 MB there
// while it runs). Timings are wall clock on a shared machine: run the benchmark
// on an otherwise idle machine, and compare rows from the same run only.
package main

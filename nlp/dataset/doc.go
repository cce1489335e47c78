// Package dataset reads NLU training data: Parley's own YAML format (see
// FORMAT.md beside this file), CLINC150 JSON, text,category CSV, Rasa
// nlu.yml (2.x and 3.x) and the Bitext customer-support CSV (split
// 80/10/10 by HashSplit), into one Dataset of labelled examples with
// annotated entity spans and the domain's entity declarations. Load reads a
// file, Parse data held in memory; FormatAuto guesses the format from the
// file name and content.
//
// The package owns the formats and their errors, not what is learnt from
// them: package nlp trains and evaluates models on a Dataset. It links no
// Gorgonia, so tools that only check or convert data stay small.
//
// Every input is untrusted. Every error is a *ParseError with the file, the
// line and a reason meant for the person who wrote the file; on error
// nothing is returned, never a half-loaded dataset. YAML syntax errors
// point at the start of the enclosing block, where the YAML library reports
// them. Files over MaxBytes are refused without being read whole.
//
// Caveat: an out-of-scope example is one labelled OutOfScope ("oos", the
// CLINC150 convention) in any format, so "oos" cannot name a real intent.
package dataset

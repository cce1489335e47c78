// Package nlp turns customer text into meaning: intents with calibrated
// confidences, an in-scope decision, entities with character spans and a
// sentence embedding. It owns the whole path from training data to a loaded
// model:
//
//   - Package nlp/dataset loads training data: Parley's YAML format (see
//     dataset/FORMAT.md), CLINC150 JSON, text,category CSV and Rasa nlu.yml.
//   - Train builds a model: a WordPiece tokenizer learned from the training
//     text (internal/tokenize, on github.com/sugarme/tokenizer), TF-IDF word
//     and character n-gram features, and an ensemble of wide-and-deep
//     classifiers trained with Gorgonia (internal/intent), each stopped early
//     on validation data (and trained again on all examples when that data
//     was a hold-out), with pseudo out-of-scope examples (pseudo.go), and
//     calibrated on validation data only: confidences, and the scope score
//     and threshold of the in-scope decision.
//   - Model.Parse runs the model on one message; Evaluate scores a model on
//     labelled data. The Result of a parse, its parts and the errors for
//     unreadable text are defined in package nlp/nlu, which links no
//     Gorgonia: code that only acts on results (the dialog engine, triage,
//     insight) imports nlu, not nlp. Result, IntentScore, Entity,
//     ErrEmptyText, ErrInvalidUTF8 and MaxTextBytes here are the same
//     things under their old names.
//
// A model directory holds tokenizer.json, weights.bin and meta.json (format
// version, labels, threshold, temperatures, scope power, seed, data hash,
// validation metrics, checksums of the other files). Same data and seed give the same
// model.
//
// Caveats: entity rules (dates, money) are English; messages are read up to
// MaxTextBytes; the out-of-scope threshold is only as good as the
// out-of-scope examples in the validation data (without any, it rejects the
// least confident 5% of correct validation answers).
package nlp

// Package kb is the help centre's knowledge base: it loads articles
// (Markdown files with front matter), splits them into passages, and finds
// the passage that answers a customer's question, with a calibrated
// confidence that decides whether to answer from it at all.
//
// It owns:
//
//   - the article format and its reader (Load, LoadDir, ParseArticle): front
//     matter between "---" lines with id (required, unique, [a-z0-9-]),
//     title (required), tags (optional list, indexed with every passage:
//     the place for the words customers use that the text does not),
//     questions (optional list of example questions in customers' words,
//     not indexed: they train nlp/encoder's help-centre encoder) and url
//     (optional, default "/help/<id>"); then a Markdown body, split by
//     heading and paragraph into passages of about 40-120 words, each keeping
//     its heading. Bad files (empty, over 256 KiB, binary, broken front
//     matter, duplicate ids) are errors naming the file and line; a folder
//     loads whole or not at all.
//   - lexical retrieval: BM25 (k1 1.2, b 0.75) over passages with a simple
//     documented tokenizer (Terms) and one-edit typo correction of question
//     words; an article scores as its best passage. Search reads flat
//     postings (int32/float32 arrays, per-term idf and per-passage length
//     norm computed once) with pooled accumulators and a top-k heap, and
//     scores bit for bit as the map-based definition kept in the tests
//     (under 1 ms over 30,000 passages where every passage matches).
//   - combining signals: a Searcher sums the weighted scores of several
//     Retrievers per passage and ranks articles by their best passage. BM25
//     returns its best DefaultBM25TopK passages; a PassageScorer (BM25 is
//     one) also scores the passages other signals found, so the cut changes
//     no candidate's total. nlp/encoder.NewKBSearcher adds the sentence
//     encoder's cosine as the second signal, with its own calibration.
//   - calibration: a logistic function of the top score, its margin over the
//     next article and the passage's coverage of the question, fitted (Fit)
//     on the validation half of labelled questions (FitCV), with the
//     threshold at which at most WrongLimit of the answers are wrong when
//     each question is held out of the fit (repeated 10-fold
//     cross-validation): a threshold chosen on the questions the weights
//     were fitted to answers too much. DefaultCalibration holds the fit for
//     the demo shop; the test half only measures.
//   - the index file (Index.Save, OpenIndex): versioned and checksummed,
//     written atomically, so "bot kb index" can check a folder and store
//     the result.
//
// Caveats: the tokenizer and stemmer are English; BM25 only matches words
// (and near-misspellings) that the article or its tags contain, so a
// paraphrase with none of the article's words is missed by NewSearcher
// (BM25 alone) and left to the encoder signal; the calibration is only as good as the labelled
// questions it was fitted on, and must be refitted whenever the articles,
// the signals or their weights change (a test checks this for the demo).
package kb

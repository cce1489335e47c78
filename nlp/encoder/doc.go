// Package encoder owns Parley's sentence encoder: a dual encoder that maps
// a customer's question and a candidate answer (a help-centre passage, an
// agent's reply) to unit vectors whose dot product says how well the answer
// fits the question.
//
// Each tower reads the features the intent model already uses (the
// tokenizer's words, then TF-IDF weighted word 1-2 grams and character 2-5
// grams from nlp/internal/intent's Featurizer, shared by both towers),
// sums the embeddings of a text's features weighted by TF-IDF, passes the
// sum through a dense layer and L2-normalises it. Training (Train) uses
// in-batch softmax: in a batch of (question, answer) pairs every other
// answer is a negative, and the loss is the cross-entropy of the batch's
// cosine-similarity matrix divided by a temperature.
//
// As in the intent model, the sparse part (the weighted sums of embedding
// rows and their gradients) is computed in Go and only the dense part runs
// in one Gorgonia graph, built once per training run: a graph with the
// embedding lookups in it needs padded dense tensors per batch shape and
// holds gigabytes. The embedding tables are updated by lazy Adam on the rows
// a batch touched.
//
// The package also measures retrieval (Recall, against BM25 and a hybrid of
// both) and adapts an Encoder to nlp/kb as a Retriever, so that the help
// centre can combine BM25 with the encoder's cosine; nlp/kb itself stays free
// of Gorgonia.
//
// # Measured (two shared cores)
//
// Bitext sample (go test -run TestBitextRetrieval -v): trained on the 3,585
// training pairs in about 40 s at a peak of 0.5 GB; each test instruction's
// response ranked among the test split's 473 responses: BM25 R@1 52.9%,
// encoder 56.9%, hybrid (weight 0.55, chosen on the validation split)
// 63.4%. Demo help centre (TestDemoHybrid, encoder trained on KBPairs with
// KBOptions, weight and calibration fitted on the validation half): test
// top-1 85.0% (BM25 alone 81.7%), wrong 6.7% of answered (BM25 alone
// 11.1%). Retriever over 30,000 passages: p95 about 2-5 ms
// (TestRetrievalLatency).
//
// Caveats: the encoder knows only the features of its training texts (a
// word it never saw contributes its character n-grams, if those were seen);
// it is trained from scratch on a few thousand pairs, so it learns the
// support domain's vocabulary, not general English.
package encoder

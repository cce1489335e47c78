// Package intent is Parley's intent classifier: features, the network, its
// training with Gorgonia, calibration and persistence.
//
// Features are TF-IDF weighted word unigrams and bigrams and character 2-5
// grams inside word boundaries (like a scikit-learn FeatureUnion of a word
// and a char_wb vectorizer), identified by 64-bit hashes and kept when seen in
// enough training sentences. The network (Net) is "wide and deep": a linear
// layer over the sparse features plus a ReLU hidden layer over a weighted bag
// of feature embeddings; its hidden layer is the sentence embedding.
//
// Training builds Gorgonia graphs that compute the loss and all gradients.
// Gorgonia's ByIndices has a dense gradient, which for a table of tens of
// thousands of rows would make every step touch the whole table; so each
// graph sees only the rows the batch uses, copied in, and the trainer applies
// their gradients with a lazy Adam that is exact to dense Adam (see
// lazyAdam). Inference is a plain-Go forward pass over the same weights;
// tests check it against the graph, check the graph's gradients numerically
// on tables past 256 rows (where Gorgonia's Slice bug would strike; this
// package uses no Slice), and check that a batch can be overfitted.
//
// An Ensemble averages the logits of nets trained with different seeds.
// Their feature tables are rounded to half precision after training and
// stored so, which halves the model directory and changes no prediction
// between training and loading.
//
// Caveats: a Net is read-only after training and safe for concurrent use; a
// trainer and its graphs belong to one goroutine.
package intent

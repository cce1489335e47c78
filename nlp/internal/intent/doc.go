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
// Training runs one Gorgonia graph per network, built once and reused for
// every batch, that computes the loss and the gradients of everything from
// the bags (the TF-IDF weighted sums of feature rows) on: the bias, the
// ReLU layer, the output layer, the softmax. The bags themselves are
// computed in Go from the rows a batch uses, and their gradients scattered
// back to those rows, because a bag is a sparse linear map that Gorgonia
// can only express densely: its ByIndices has a dense gradient, and its
// output is a [sentences x length x width] tensor per shape of batch, which
// once made training CLINC150 hold some fifty graphs and peak at 5 GB. A
// lazy Adam, exact to dense Adam (see lazyAdam), then updates only the
// rows the batch used. Inference is a plain-Go forward pass over the same
// weights; tests check it against the graph, check the gradients of every
// weight numerically on tables past 256 rows (where Gorgonia's Slice bug
// would strike; this package uses no Slice), and check that a batch can be
// overfitted.
//
// An Ensemble averages the logits of nets trained with different seeds.
// Their feature tables are rounded to half precision after training and
// stored so, which halves the model directory and changes no prediction
// between training and loading.
//
// Adam's update and the bag gradients' axpy run in SSE assembly on amd64
// (adam_amd64.s), four weights at a time with the scalar code's operations
// in its order, so that the weights are bit-identical to the plain Go of
// other architectures (adam_other.go); tests compare the two.
//
// Caveats: a Net is read-only after training and safe for concurrent use; a
// trainer and its graph belong to one goroutine.
package intent

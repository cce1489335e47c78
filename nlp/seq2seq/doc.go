// Package seq2seq trains and runs a small generative reply model: a GRU
// encoder over the customer's question and a GRU decoder with Luong
// ("general") attention that writes the answer one token at a time.
//
// Training builds one Gorgonia graph per run, unrolled for exactly MaxIn
// encoder and MaxOut decoder steps, with masks for padding and teacher
// forcing, and reuses it for every batch. Inference does not use Gorgonia:
// a plain-Go forward pass over the same weights (tested to give the graph's
// logits) runs greedy or beam decoding, which is much faster and safe to
// share between goroutines.
//
// Tokens are lower-cased words and punctuation; a {{...}} placeholder such
// as {{Order Number}} is one token, kept verbatim so that it can be filled
// later. Generation only writes tokens of the output vocabulary (never
// <unk>), so it never invents a placeholder it was not trained on.
//
// Caveats: answers longer than MaxOut tokens are truncated in training, so
// generated answers stop at MaxOut tokens; the model memorises the style
// of its training answers and has no notion of facts. A model is saved as
// seq2seq.json (meta, checksums) and seq2seq.bin (weights) in a directory
// it may share with other models.
//
// Measured by go run ./bench/replies (the Bitext sample's 3,585 training
// pairs, two cores): DefaultOptions train five epochs in 8.6 minutes and
// the fifth has the best validation loss (1.460 per token); on the 473
// test pairs greedy drafts score ROUGE-L 0.392 and placeholder F1 0.363,
// decode in 15 ms at p95, and training both reply models peaked at 1046
// MiB resident. A fixed number of epochs rather than a time budget keeps
// the model the same on fast and slow machines: the same seed gives the
// same weights to the bit. LR 8e-3 was chosen over 5e-3 on validation loss.
package seq2seq

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
// Measured (PARLEY_LONG=1 go test -run TestBitextSeq2seq -v ./nlp/seq2seq,
// two cores shared with other jobs): the Bitext sample has 3,585 training
// pairs; DefaultOptions ran 5 epochs in the 8.5 min budget (val loss 1.447
// per token; LR 8e-3 chosen over 5e-3, which reached 1.669 in 3 epochs);
// on 200 test pairs greedy ROUGE-L F 0.425 (0.419 against whole answers),
// placeholder F1 0.382, decode p95 17 ms greedy, 73 ms with beam 4; peak
// RSS 0.98 GB (/usr/bin/time -v).
package seq2seq

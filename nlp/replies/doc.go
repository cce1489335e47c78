// Package replies trains and evaluates Parley's reply models from
// (customer message, agent reply) pairs: the Bitext customer-support
// sample, or the replies agents wrote in a Parley store (suggest.Mine).
//
// It owns:
//
//   - the data (ReadBitext, FromMined): every pair belongs to the 80/10/10
//     split dataset.HashSplit gives its message, the split the intent
//     benchmark uses, so no message is trained on by one model and tested
//     on by another;
//   - training (Train): the sentence encoder (nlp/encoder) for retrieval,
//     the hybrid weight of its cosine and BM25 chosen on the validation
//     split, and the seq2seq model (nlp/seq2seq) for drafts; the nearest
//     neighbour baseline (the reply to the most similar training message,
//     by BM25 or the encoder, whichever wins on validation);
//   - the model folder (Save, Load): replies.json (format version, choices,
//     checksum of pairs.json), pairs.json, and the two models' folders,
//     replaced whole by Save;
//   - evaluation (Evaluate, Ranker): R@1, R@5 and MRR of each message's
//     reply among every reply of a split; ROUGE-L, BLEU-4, placeholder F1
//     and distinct-2 of the drafts and of the nearest neighbour; p95
//     latencies; the JSON of "bot eval-replies --json";
//   - drafts for agents (Model.Draft, a suggest.Drafter): the seq2seq reply
//     with the placeholders the conversation knows filled (FillDraft).
//
// Caveats: the seq2seq model writes drafts only; it does not beat the
// retrieval baseline (see the README's numbers), so nothing it writes
// reaches a customer without an agent. Answers longer than the model's
// MaxOut tokens are cut.
package replies

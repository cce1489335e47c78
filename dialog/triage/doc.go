// Package triage learns, from the CRM's past conversations, where a
// conversation handed to a person should go and how urgent it is
// (routing), and how likely a conversation is to end with a low rating
// (satisfaction). Its models plug into the dialog engine as a
// dialog.Router and a dialog.Scorer; the learners themselves are in
// package models.
//
// # Features
//
// Spec.Vector turns a dialog.Situation (what the engine knows after a
// customer message: the conversation, its messages, the customer and
// their history) into named features: customer=unknown, tier=T and
// channel=C (fixed one-hot columns), intent=I and entity=E (seen in a
// customer message, from the parse the engine stores on each one; the
// vocabularies are learnt from the training data and saved with the
// model), and counts: customer_messages, wait_minutes (first message to
// the latest customer message), open_tickets, past_handoffs, last_rating
// and last_rating_low, lifetime_orders, and the frustration cues shouting
// (two words in capitals), exclamations ("!!"), cue_words (the domain's
// policy.frustration_cues, the list the engine's policy uses, taken from
// Options.Domain at training and saved with the model), out_of_scope and
// repeats (an intent asked for again).
// The features read only the situation, never the clock, so the same
// situation always gives the same vector.
//
// # Training
//
// ReadDataset pages through the store's resolved conversations of known
// customers and reads each with dialog.ReadSituation, the reader the engine
// uses, with the customer's history as of the conversation's start; it
// parses customer messages that were stored without a parse (imported
// history) with a dialog.Parser, and rebuilds each conversation's
// situations as the engine saw them: one per customer message before an
// agent first wrote.
//
// TrainRouting learns the queue and the priority agents finally gave the
// handed-off conversations (those with a Queue), from the situation at the
// handoff. A decision tree is the default, because its path reads as a
// reason ("intent=complaint + tier=gold -> urgent"); logistic regression
// and a linear SVM can be chosen, or all compared (Auto). For each target
// the candidate with the best stratified k-fold macro-F1 is kept (the
// tree's depth, the linear models' C) and fitted on all the data; the
// report shows every candidate next to the majority-class baseline.
//
// TrainSatisfaction learns, from every situation of the rated
// conversations, the chance of a rating of 1 or 2. It uses logistic
// regression (probabilities), chooses C by out-of-fold Brier score with
// folds that keep a conversation's situations together, reports AUC and
// Brier score against the base rate, and chooses the escalation threshold
// on the out-of-fold predictions: the best F0.5 (precision counts twice,
// since each escalation costs an agent's time), never below 0.5.
//
// # Files
//
// Models are saved beside the NLU model as routing.json and
// satisfaction.json: JSON with a format name and version, the feature
// vocabularies, the learners (models' own saved form), the
// standardisation of the linear models' features and the training report.
// Load returns a nil Router or Scorer for a missing file and an error for
// a file that is not a valid model (ErrFormat, ErrVersion, or
// models.ErrDimension when the learners do not fit the features).
//
// # Caveats
//
//   - The demo shop's history (shop.History) is SYNTHETIC: generated
//     conversations with plausible, noisy patterns. Models trained on it
//     show the machinery working, not how a real shop's customers behave;
//     retrain on real conversations once there are enough.
//   - Conversations without a known customer are not in any export, so
//     they are not trained on. Labels come from the store as it is: the
//     queue and priority the engine's own router gave are labels too unless
//     an agent changed them.
//   - History features are taken as of a conversation's start from what the
//     export holds: a ticket counts as open then if it was opened before
//     and is open now or was last updated after (the export keeps no
//     status history).
//   - The reported scores of the chosen candidate are slightly optimistic:
//     the same folds chose it (there is no nested cross-validation; the
//     grids are small).
//   - Training holds the whole data set in memory: fine for tens of
//     thousands of conversations, not for millions.
package triage

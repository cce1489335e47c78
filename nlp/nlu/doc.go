// Package nlu holds what the NLU model makes of one customer message: the
// Result of a parse, with its ranked intents, in-scope decision, entity
// spans and embedding, and the errors a parser returns for text it cannot
// read.
//
// It is the contract between the model (package nlp, which trains and runs
// it with Gorgonia) and the code that acts on its results: the dialog
// engine, triage, insight and the channels. Those import nlu, not nlp, so
// that they link no Gorgonia, tokenizer or HTTP code and can be tested with
// a scripted parser that fills Results by hand. The package imports only the
// standard library; a test keeps it that way.
package nlu

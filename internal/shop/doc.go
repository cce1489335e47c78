// Package shop holds Parley's default domain data: the training sentences of
// an online shop that sells electronics and accessories, clothing and home
// goods. The data is written by the team (never taken from a public data set)
// and compiled into the binary, so that "bot serve" understands customers on a
// fresh machine with no files to download.
//
// nlu.yml, in the Parley YAML format, holds 33 intents (orders and the list
// of them, delivery, returns, refunds, payment, invoices, account,
// products, complaints and feedback, a human agent, small talk, and a
// customer giving their name), out-of-scope examples under the
// intent "oos", a held-out validation section, and the entities order_id
// (4 to 6 digits), email and product (a lookup table of the catalogue with
// synonyms). Its header explains the format and where the line between
// similar intents runs; it is the example newcomers copy.
//
// seed.json holds the demo CRM (customers, orders, a few conversations,
// tickets and ratings). History (history.go) adds a few hundred past
// conversations of those customers, generated from a fixed seed: they are
// SYNTHETIC, written so that the routing and satisfaction models have
// something plausible to learn (queues follow topics, priorities and low
// ratings follow tier, anger and trouble, all with noise), not a record of
// real customers. EnsureSeeded loads both.
//
// Caveats: the data is English only, and the product table is a demo
// catalogue, not a real one. Any change to nlu.yml changes the data's hash, so
// a model trained on the old data is retrained. shop_test.go keeps the file
// honest: it must parse, every intent needs enough distinct examples, no
// sentence may appear twice, and every order number, e-mail address and
// product name in a sentence must be annotated.
package shop

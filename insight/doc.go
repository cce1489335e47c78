// Package insight finds what customers ask that the bot does not know: it
// gathers the customer messages the NLU judged out of scope or answered with
// low confidence, clusters their embeddings with k-means, and describes each
// cluster as a candidate new intent (a snake_case name, its distinctive
// words, its most representative messages, its size). It also projects the
// messages onto two principal components for a map. `bot insight` prints the
// report; the agent console is meant to call Analyze too.
//
// # How a report is made
//
//  1. Every customer message of every conversation the Source lists is
//     read. A message is analysed when it is out of scope or its confidence
//     is below Options.MinConfidence, by its stored parse
//     (crm.Message.Parse). The dialog engine stores parses without the
//     embedding, so a message the stored parse does not mark as understood
//     is parsed with the Parser (each distinct text once), which gives the
//     embedding and, for a model retrained since, the current verdict. A
//     message without a stored parse is parsed too; one whose stored parse
//     holds an embedding (an older engine, an import) is used as it is.
//     Options.Reparse parses every message again.
//  2. Messages whose texts differ only in case, spacing and numbers ("where
//     is order 1042", "Where is order 977") become one point, the mean of
//     their embeddings, so a phrase sent a hundred times does not outweigh
//     a hundred different phrasings of one need; sizes still count
//     messages. Embeddings are scaled to unit length first: the direction
//     of an embedding carries what a message is about, its length mostly
//     how sure the network is, and unit vectors make k-means group by
//     cosine similarity.
//  3. k-means (models.KMeans, k-means++ with restarts, Options.Seed) groups
//     the points. Without Options.K, k is the one of 2..MaxK (at most one
//     less than the number of points) with the highest mean silhouette
//     coefficient (Rousseeuw 1987), computed on at most 1,000 points drawn
//     with the seed (the smaller k on a tie); with fewer than three points
//     there is one cluster. A given K larger than the number of points is
//     an error (ErrTooFewMessages), not quietly lowered.
//  4. Each cluster is described by the messages closest to its centre and by
//     its words scored with class-based TF-IDF: the share of the cluster's
//     texts holding the word times log(1 + A/f), where f counts the word's
//     texts in all clusters and A is the mean number of texts per cluster,
//     so words common to every cluster (and stop words, which are dropped)
//     do not name one. The suggested intent name joins the two best words
//     (three, or a number, when that name is taken by another cluster or an
//     intent the model already has).
//  5. PCA (models.PCA) of the unit embeddings gives every analysed message a
//     point (x, y) on a map, with its cluster.
//
// Analyze is deterministic: the same messages, options and seed give the
// same report.
//
// # Caveats
//
//   - The embeddings are the intent classifier's (nlu.Result.Embedding):
//     trained to tell the known intents apart, they place an unknown
//     question partly by the known intents it resembles. They still carry
//     topic: six CLINC150 intents the demo shop's model never saw (180
//     test questions) come back with purity 0.88 and adjusted Rand index
//     0.75 for k=6, 0.87 and 0.66 with k chosen (9)
//     (TestRecoverCLINC150Intents). Silhouettes of such embeddings are low
//     even then (0.09); the demo history's unrelated chit-chat scores 0.03,
//     and `bot insight` warns below 0.05. Silhouette tends to pick a k a
//     little above the number of real needs: give K when you know better.
//   - Analyze needs the Parser: without one, the messages the engine stored
//     (parses without embedding) all count as Unparsed.
//   - Stored embeddings (older stores, imports) are only comparable when one
//     model made them. After the model is retrained, run with Reparse (`bot
//     insight --reparse`): embeddings of different sizes are refused with
//     ErrDimension, but embeddings of the same size from different models
//     are not detected.
//   - Names are built from ASCII letters and digits only; words in other
//     scripts still show among the top words but a cluster with none gets a
//     name such as "topic_3".
//   - The stop words are English; other languages' function words can show up
//     among the top words.
//   - Everything is held in memory: fine for tens of thousands of analysed
//     messages, not for a store's whole history of millions.
package insight

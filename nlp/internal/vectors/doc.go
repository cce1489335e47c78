// Package vectors loads pre-trained word vectors for `bot train --vectors
// FILE`: word2vec binary, word2vec text and GloVe text, told apart by their
// content.
//
//   - word2vec binary: a header line "N D", then per word the word, a space,
//     D little-endian float32 and an optional newline.
//   - word2vec text: the same header line, then per line "word v1 ... vD".
//   - GloVe text: lines "word v1 ... vD" without a header; D is taken from
//     the first line.
//
// A file with a header is binary unless its first record parses as a text
// line of D values. A first line of two integers is always a header, so a
// one-dimensional GloVe file whose first word is a number reads as
// word2vec text (and then fails if the counts disagree).
//
// Loading is all or nothing: a truncated file, a line with the wrong number of
// values, a NaN or infinite value, a word that is not UTF-8, a header that
// claims more (or fewer) words than the file holds, or data after the words
// it declares give a *ParseError naming the file, the line or word and the
// reason, and no Set. Before allocating, Load refuses a header claiming more
// than 2^29 values in all or a dimension over 10,000, and one claiming more
// words than the file's size can hold; memory then grows only with the data
// actually read.
//
// A word seen twice keeps its first vector. A Set is read-only after
// loading and safe for concurrent use; the slices Lookup returns share its
// memory and must not be modified.
package vectors

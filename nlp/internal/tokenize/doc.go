// Package tokenize owns Parley's tokenizer: it learns a WordPiece vocabulary
// from training texts (Build), writes it as a Hugging Face style
// tokenizer.json, loads that file or one the user brings with
// github.com/sugarme/tokenizer (Load), and encodes customer messages into
// token ids and normalised words with rune offsets into the message (Encode).
//
// # Pipeline
//
// Every text is first cut to MaxTokens*16 bytes (at a word boundary where
// there is one) and cleaned (Clean: invalid UTF-8 becomes U+FFFD, control and
// format characters and all white space become ' ', one rune per rune). For a
// tokenizer.json that Build wrote, Encode then
//
//   - normalises: NFKC, lower-case, strip accents (NFD, drop Mn, NFC), so
//     "Crème brûlée" is "creme brulee", "ＡＢＣ" is "abc" and "ﬁ" is "fi";
//   - pre-tokenizes: splits on white space and makes every punctuation mark,
//     symbol (emoji, currency sign, U+FFFD) and Han character a word of its own;
//   - looks each word up in the library's WordPiece model (greedy longest
//     match first with "##" continuations; a word over 100 characters is
//     [UNK]), and keeps the first MaxTokens tokens.
//
// The file declares the same steps in Hugging Face terms (normalizer: a
// Sequence of NFKC, Lowercase, NFD, StripAccents, NFC; pre_tokenizer: a
// Sequence of BertPreTokenizer and an isolating Split on [\p{S}\p{Han}]);
// Load takes this path only for a file that declares exactly these.
//
// Any other WordPiece tokenizer.json (a BERT one, say) gets its own
// normaliser, run in Go with Hugging Face semantics (NFC, NFD, NFKC, NFKD,
// Lowercase, StripAccents, Strip, BertNormalizer and Sequences of them), then
// the library's pre-tokenizer (those that only split: BertPreTokenizer,
// Whitespace, WhitespaceSplit, Punctuation, Digits, Split, UnicodeScripts,
// Delimiter, Sequence) and the library's WordPiece model. Its
// post-processor, padding, truncation, decoder and added tokens are not used.
// Other normalisers, pre-tokenizers and models are refused with
// ErrUnsupported.
//
// # What runs in Go instead of the library, and why
//
// Measured with sugarme/tokenizer v0.3.0:
//
//   - its Lowercase normaliser, also inside BertNormalizer, panics ("slice
//     bounds out of range") on a character whose lower case has another byte
//     length, such as the "İ" of "İstanbul"; its NFKD returns nil for text
//     already in NFKD (all ASCII text) and the next step crashes; its NFKC
//     and NFC do not compose ("e" + U+0301 stays two runes); StripAccents
//     corrupts offsets; and NormalizedString.TransformRange, which they all
//     use, calls log.Fatal when its bookkeeping goes wrong. So no library
//     normaliser ever runs: the library is handed the file without one.
//   - its token offsets count runes as bytes inside a word, so they are
//     wrong for non-ASCII text. Words and offsets come from Parley's own
//     alignment of normalised runes to original runes instead.
//   - EncodeSingle costs about 110-170 us and 1,375 allocations for a
//     ten-word message (a regexp compiled per call, per-split copies of the
//     whole alignment, quadratic in the text length), against about 2-3 us
//     for the Go path, which calls only the model (TokenToId for a word in
//     the vocabulary, otherwise Tokenize).
//
// Tests check that the Go path gives the tokens, words and offsets of the
// library's own pre-tokenizer and the ids of its whole EncodeSingle pipeline
// (on normalised text), and the ids of an independent reference encoder.
//
// # Caveats
//
//   - Customer text cannot produce special tokens: "[CLS]" in a message is
//     lower-cased and split like any text. Files with non-special added
//     tokens are refused.
//   - Only WordPiece with the "##" prefix: the library ignores
//     continuing_subword_prefix.
//   - User-supplied files: a pre-tokenizer that starts by splitting on white
//     space runs on each space-free chunk of at most 256 bytes (a longer run
//     is cut there), to keep the library's quadratic cost bounded; other
//     pre-tokenizers see the whole (at most MaxTokens*16 bytes) text.
//   - Lower-casing uses Go's simple case mapping (final sigma stays σ where
//     Hugging Face writes ς). Scripts written without spaces other than Han
//     (Thai, Japanese kana) are not segmented; a run over 100 characters is
//     one [UNK].
//   - A character that normalisation expands into several words ("½" is
//     "1", "⁄", "2") gives words with the same offsets.
//   - The library calls log.Fatal in helpers Parley never calls
//     (pretrained.BertBaseUncased and friends, which also change the working
//     directory; Train; file readers; normalisers, see above). This package
//     calls only pretrained.FromReader (the body of FromFile, so the file is
//     read and checked once), the model's TokenToId and Tokenize, and the
//     pre-tokenizer's PreTokenize; panics from them are recovered.
//
// # Concurrency
//
// A Tokenizer is safe for concurrent use without locks: nothing writes to it
// after Load, the library's WordPiece model only reads its vocabulary map,
// and its pre-tokenizers keep their state per call (checked with the race
// detector). Scratch buffers come from sync.Pools.
package tokenize

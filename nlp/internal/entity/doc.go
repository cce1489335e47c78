// Package entity extracts entities with character spans from customer
// messages: e-mail addresses, phone numbers, order numbers, amounts of money,
// dates, and the domain entities a bot declares (a regular expression, a
// lookup table, synonyms). It owns the recognisers, the rules that resolve
// overlapping matches and the normalised values; it does no I/O and keeps no
// state between calls, so one Extractor serves every goroutine.
//
// # Values
//
//   - email: the address, lower-cased ("John@Example.COM" -> "john@example.com").
//   - phone: the digits, with the leading '+' when written ("+44 (0)20 7946
//     0958" -> "+442079460958"; a "(0)" trunk prefix after a country code is
//     dropped). "0044 ..." keeps its zeros. Numbers are recognised by shape:
//     "+" then 7 to 15 digits or "00" then 8 to 13, grouped in any way; or 7
//     to 15 digits
//     in at least two groups joined by one kind of separator ("555-123-4567",
//     "(555) 123-4567", "555.123.4567", "020 7946 0958"; space-separated
//     ones need 9 digits, two-group ones a hyphen); or a bare run of 11 to 15
//     digits. Dates, IP addresses, decimals and runs of more than 15 digits
//     (card numbers) are refused.
//   - order_id: the first capture group of the order pattern that matched,
//     else the whole match ("order #10423" -> "10423"). The span covers the
//     whole match, marker included. See DefaultOrderPattern.
//   - money: "<amount with 2 decimals> <ISO 4217 code>" ("€30" -> "30.00
//     EUR", "EUR 1,299.99" -> "1299.99 EUR", "1.299,99 €" -> "1299.99 EUR").
//     A separator followed by exactly three digits groups thousands; one
//     followed by one or two digits is the decimal point.
//   - date: "YYYY-MM-DD" in Options.Location, computed from the now passed
//     to Extract.
//   - name: the name a customer introduces themselves with ("my name is
//     carlos" -> "Carlos", "Hi, I'm Maria", "this is Priya from Leeds",
//     "Carlos here", "call me Al"), each word capitalised; one or two words,
//     found by the phrase around them and a stop list of common words
//     ("I'm fine" is no name). See name.go.
//   - declared entities: a Pattern match is its own value; a lookup value
//     reports the value as declared; a synonym variant reports its canonical
//     value, and so does a declared value that is also a variant.
//
// # Dates
//
// Recognised: "today", "tonight", "tomorrow", "tmrw", "yesterday", "the day
// after tomorrow", "the day before yesterday"; weekdays, full or abbreviated
// ("mon", "tues", "thurs"; abbreviations only after a modifier or "on");
// "3 March", "3rd of March", "March 3", "March 3rd", "Mar. 3", "March the
// 3rd", each with an optional year ("March 3, 2026") and an optional weekday
// before it ("Tuesday, March 3": the explicit date wins); ISO "2026-03-03"
// (also "2026/3/3"). Weeks start on Monday, and:
//
//   - "this Friday" is the coming Friday, today included (0 to 6 days ahead);
//   - "Friday", "on Friday", "coming Friday" are the coming Friday, today
//     excluded (1 to 7 days ahead);
//   - "next Friday" is the Friday of next week (1 to 13 days ahead);
//   - "last Friday", "(this) past Friday" are the latest Friday before today.
//
// A day and month without a year ("March 3") and a weekday without a
// modifier ("Friday", "on Friday") follow the tense of their sentence, read
// from the cue word nearest to the date in the same sentence (sentences end
// at '!', '?', ';', a line break, or a '.' not followed by a number):
//
//   - the past ("was", "were", "did", "had", "been", "ago", "last",
//     "yesterday", irregular past verbs such as "paid", "sent", "came", and
//     words of five letters or more ending in "-ed" that do not follow "is",
//     "are", "be", "get" or "'s"): the latest occurrence on or before today
//     ("I was charged twice on 3 March"); a weekday is then as "last Friday";
//   - the future ("will", "'ll", "shall", "won't", "going to", "gonna",
//     "next", "tomorrow", "upcoming"): the earliest occurrence on or after
//     today ("it will arrive on 1 December"); a weekday stays the coming one;
//   - no cue, or two cues at the same distance that disagree: a day and month
//     mean the occurrence nearest to today, before or after (support
//     conversations talk about recent deliveries as often as about coming
//     ones, so the date is within six months of today; on an exact tie, which
//     only leap years allow, the future one wins), and a weekday the coming
//     one.
//
// 29 February without a year is the nearest (or latest, or next) 29 February,
// however far. Impossible dates ("30 February", "2026-13-01") are not
// entities.
//
// # Overlaps
//
// Extract never returns two overlapping entities. Among overlapping
// candidates the longer span (in runes) wins; between spans of equal length
// the type priority decides: declared entities (in the order declared), then
// email, money, date, phone, order_id, name. So "order 5551234567" is one order_id
// (its span includes the marker) and "2026-03-03" is a date, never a phone.
//
// # Input
//
// Text is untrusted. Invalid UTF-8 is read as one U+FFFD per bad byte, the
// way []rune(text) reads it, so Start and End always index []rune(text), and
// Entity.Text then holds U+FFFD where the message had bad bytes. Every
// recogniser is linear in the length of the text (Go regexps are, and the
// hand-written scanners visit each byte a bounded number of times), and
// Extract skips the e-mail scanner without an '@' and the number scanners
// without a digit.
//
// # Caveats
//
//   - English only: weekday, month, relative-day and currency words are
//     English; numeric day-first or month-first dates ("03/04/2026") are
//     ambiguous and not recognised; neither are times, ranges ("next week"),
//     "in 3 days" or ordinal words ("the third of March").
//   - Phone numbers are recognised by shape, not by numbering plan; a bare run
//     of 5 to 10 digits is an order number under the default pattern (set
//     Options.OrderPattern for a shop whose numbers look otherwise), and a
//     bare 10-digit phone number is therefore an order_id.
//   - Multipliers are not read: "$5k" and "£1.5m" are not money.
//   - "5 pounds" is money even when it weighs five pounds, and "may 3" is a
//     date wherever it appears. Tense is read from cue words, not grammar:
//     "the damaged one, by 3 March" reads "damaged" as a past verb, and a
//     past-tense cue that belongs to another clause of the same sentence
//     still counts when it is the nearest.
//   - Lookup values match whole words, case-insensitively (simple per-rune
//     lower-casing, no Unicode normalisation: a decomposed "é" does not match
//     a precomposed one), with any run of white space matching a space. There
//     is no stemming: "hoodies" does not match "hoodie"; declare plurals as
//     synonyms.
//   - E-mail addresses are ASCII; internationalised domains are not found.
package entity

package entity

import (
	"testing"
	"time"
)

func TestEmail(t *testing.T) {
	x := mustNew(t, nil, nil)
	runShort(t, x, tuesday, []shortCase{
		{"plain", "my email is jane@example.com thanks", []string{"email:jane@example.com=jane@example.com"}},
		{"lower-cased value", "Mail John.Doe+shop@Example.CO.UK.", []string{"email:John.Doe+shop@Example.CO.UK=john.doe+shop@example.co.uk"}},
		{"trailing punctuation", "(write to support@parley.dev)", []string{"email:support@parley.dev=support@parley.dev"}},
		{"two addresses", "a@b.io,c@d.io", []string{"email:a@b.io=a@b.io", "email:c@d.io=c@d.io"}},
		{"no dot in domain", "ping me at jane@localhost", nil},
		{"one-letter tld", "jane@example.c", nil},
		{"no local part", "see @example.com", nil},
		{"empty label", "jane@.example.com", nil},
		{"at sign alone", "meet @ 5", nil},
		{"double dot cut", "jane@example..com", nil},
	})
}

func TestPhone(t *testing.T) {
	x := mustNew(t, nil, nil)
	runShort(t, x, tuesday, []shortCase{
		{"international spaces", "call +44 20 7946 0958 today", []string{"phone:+44 20 7946 0958=+442079460958", "date:today=2026-03-10"}},
		{"international compact", "+442079460958", []string{"phone:+442079460958=+442079460958"}},
		{"international with area in parens", "+1 (555) 123-4567", []string{"phone:+1 (555) 123-4567=+15551234567"}},
		{"trunk prefix dropped", "+44 (0)20 7946 0958", []string{"phone:+44 (0)20 7946 0958=+442079460958"}},
		{"double zero prefix", "0044 20 7946 0958", []string{"phone:0044 20 7946 0958=00442079460958"}},
		{"national parens", "my number is (555) 123-4567.", []string{"phone:(555) 123-4567=5551234567"}},
		{"national dashes", "555-123-4567", []string{"phone:555-123-4567=5551234567"}},
		{"national dots", "555.123.4567", []string{"phone:555.123.4567=5551234567"}},
		{"seven digits with dash", "dial 555-1234", []string{"phone:555-1234=5551234"}},
		{"toll free", "1-800-555-1234", []string{"phone:1-800-555-1234=18005551234"}},
		{"uk national spaces", "020 7946 0958", []string{"phone:020 7946 0958=02079460958"}},
		{"french pairs", "tel: +33 1 23 45 67 89", []string{"phone:+33 1 23 45 67 89=+33123456789"}},
		{"bare eleven digits", "07946095858", []string{"phone:07946095858=07946095858"}},
		{"in parentheses", "(call 555-123-4567)", []string{"phone:555-123-4567=5551234567"}},
		{"iso date is a date", "2026-03-03", []string{"date:2026-03-03=2026-03-03"}},
		{"dotted date", "03.03.2026", nil},
		{"date then number", "2026-03-03 5551234", []string{"date:2026-03-03=2026-03-03", "order_id:5551234=5551234"}},
		{"order then quantity", "#10423 12 items", []string{"order_id:#10423=10423"}},
		{"two space separated numbers", "10423 12", []string{"order_id:10423=10423"}},
		{"decimal", "1234567.89", nil},
		{"ip address", "192.168.100.111", nil},
		{"card number", "4111 1111 1111 1111", nil},
		{"too short", "555 123", nil},
		{"space separated seven digits", "555 1234", nil},
		{"glued to letters", "abc555-123-4567", nil},
		{"after hash is an order", "#5551234567", []string{"order_id:#5551234567=5551234567"}},
		{"money not phone", "$1,234,567", []string{"money:$1,234,567=1234567.00 USD"}},
		{"sixteen digit run", "1234567890123456", nil},
		{"mixed separators stop", "555-123-4567 8", []string{"phone:555-123-4567=5551234567"}},
		{"two phones", "555-123-4567 or +1 555 987 6543", []string{"phone:555-123-4567=5551234567", "phone:+1 555 987 6543=+15559876543"}},
	})
}

func TestMoney(t *testing.T) {
	x := mustNew(t, nil, nil)
	runShort(t, x, tuesday, []shortCase{
		{"dollar sign", "I was charged $12.50 twice", []string{"money:$12.50=12.50 USD"}},
		{"code after", "it cost 12.50 USD", []string{"money:12.50 USD=12.50 USD"}},
		{"euro sign", "€30 please", []string{"money:€30=30.00 EUR"}},
		{"euros word", "about 30 euros", []string{"money:30 euros=30.00 EUR"}},
		{"pound sign", "£5", []string{"money:£5=5.00 GBP"}},
		{"pounds word", "5 pounds", []string{"money:5 pounds=5.00 GBP"}},
		{"code before with thousands", "EUR 1,299.99", []string{"money:EUR 1,299.99=1299.99 EUR"}},
		{"bucks", "100 bucks", []string{"money:100 bucks=100.00 USD"}},
		{"singular dollar", "a 500 dollar withdrawal", []string{"money:500 dollar=500.00 USD"}},
		{"symbol after", "an extra 1£ charge", []string{"money:1£=1.00 GBP"}},
		{"symbol after with space", "12,50 €", []string{"money:12,50 €=12.50 EUR"}},
		{"european thousands", "1.299,99 €", []string{"money:1.299,99 €=1299.99 EUR"}},
		{"one decimal", "$12.5", []string{"money:$12.5=12.50 USD"}},
		{"leading zeros", "$007", []string{"money:$007=7.00 USD"}},
		{"cents only", "$0.99", []string{"money:$0.99=0.99 USD"}},
		{"us dollar prefix", "US$5", []string{"money:US$5=5.00 USD"}},
		{"canadian prefix", "C$20", []string{"money:C$20=20.00 CAD"}},
		{"dollar refined by code", "$30 CAD", []string{"money:$30 CAD=30.00 CAD"}},
		{"dollar and word", "$100 dollars", []string{"money:$100 dollars=100.00 USD"}},
		{"adjective", "30 Canadian dollars", []string{"money:30 Canadian dollars=30.00 CAD"}},
		{"code glued", "USD12", []string{"money:USD12=12.00 USD"}},
		{"lower-case code after", "12 usd", []string{"money:12 usd=12.00 USD"}},
		{"yen", "¥1000", []string{"money:¥1000=1000.00 JPY"}},
		{"sentence full stop", "It was $12.", []string{"money:$12=12.00 USD"}},
		{"multiplier not read", "a $5k budget or £1.5m", nil},
		{"per unit", "$12.50/month", []string{"money:$12.50=12.50 USD"}},
		{"no currency", "12.50", nil},
		{"currency without amount", "the euro is weak", nil},
		{"bad grouping", "1,2345 USD", nil},
		{"percent", "3.5% EUR", nil},
		{"code glued to word", "12 usdt", nil},
		{"amount glued to letters", "abc12 euros", nil},
		{"two amounts", "I got $20 but asked for $100.", []string{"money:$20=20.00 USD", "money:$100=100.00 USD"}},
	})
}

func TestDate(t *testing.T) {
	x := mustNew(t, nil, nil) // now: Tuesday 2026-03-10
	runShort(t, x, tuesday, []shortCase{
		{"today", "it should arrive today", []string{"date:today=2026-03-10"}},
		{"tonight", "Tonight", []string{"date:Tonight=2026-03-10"}},
		{"tomorrow", "tomorrow?", []string{"date:tomorrow=2026-03-11"}},
		{"yesterday", "it came Yesterday", []string{"date:Yesterday=2026-03-09"}},
		{"day after tomorrow", "the day after tomorrow", []string{"date:day after tomorrow=2026-03-12"}},
		{"day before yesterday", "day before yesterday", []string{"date:day before yesterday=2026-03-08"}},
		{"next monday", "next Monday", []string{"date:next Monday=2026-03-16"}},
		{"next tuesday is next week", "next tuesday", []string{"date:next tuesday=2026-03-17"}},
		{"next sunday", "next sunday", []string{"date:next sunday=2026-03-22"}},
		{"this friday", "this friday", []string{"date:this friday=2026-03-13"}},
		{"this tuesday is today", "this Tuesday", []string{"date:this Tuesday=2026-03-10"}},
		{"on tuesday is the coming one", "on Tuesday", []string{"date:Tuesday=2026-03-17"}},
		{"bare weekday", "Friday", []string{"date:Friday=2026-03-13"}},
		{"coming friday", "this coming friday", []string{"date:this coming friday=2026-03-13"}},
		{"last monday", "last Monday", []string{"date:last Monday=2026-03-09"}},
		{"last tuesday is a week ago", "last tuesday", []string{"date:last tuesday=2026-03-03"}},
		{"this past sunday", "this past Sunday", []string{"date:this past Sunday=2026-03-08"}},
		{"abbreviation after on", "on Sat", []string{"date:Sat=2026-03-14"}},
		{"abbreviation after next", "next thurs", []string{"date:next thurs=2026-03-19"}},
		{"bare abbreviation", "the sun is out", nil},
		{"day month", "3 March", []string{"date:3 March=2026-03-03"}},
		{"month day", "March 3", []string{"date:March 3=2026-03-03"}},
		{"month ordinal", "March 3rd", []string{"date:March 3rd=2026-03-03"}},
		{"ordinal of month", "the 3rd of March", []string{"date:3rd of March=2026-03-03"}},
		{"abbreviated month with dot", "Mar. 21st", []string{"date:Mar. 21st=2026-03-21"}},
		{"month the day", "March the 3rd", []string{"date:March the 3rd=2026-03-03"}},
		{"with year after day", "March 3, 2025", []string{"date:March 3, 2025=2025-03-03"}},
		{"day month year", "3 March 2027", []string{"date:3 March 2027=2027-03-03"}},
		{"iso", "2026-03-03", []string{"date:2026-03-03=2026-03-03"}},
		{"iso slashes", "2026/3/3", []string{"date:2026/3/3=2026-03-03"}},
		{"iso with time", "2026-03-03T10:00", []string{"date:2026-03-03=2026-03-03"}},
		{"iso invalid month", "2026-13-01", nil},
		{"iso invalid day", "2026-02-30", nil},
		{"february 30", "Feb 30", nil},
		{"month and year only", "March 2026", nil},
		{"modal may", "May I ask something?", nil},
		{"price before month", "$3 March", []string{"money:$3=3.00 USD"}},
		{"time after day", "May 3:30", nil},
		{"nearest in the past", "it was due December 28", []string{"date:December 28=2025-12-28"}},
		{"nearest in the future", "arriving August 30", []string{"date:August 30=2026-08-30"}},
		{"29 february", "29 February", []string{"date:29 February=2028-02-29"}},
		{"weekday before month day", "Tuesday, March 3", []string{"date:Tuesday, March 3=2026-03-03"}},
		{"weekday before day month", "on Tue 3 March 2026", []string{"date:Tue 3 March 2026=2026-03-03"}},
		{"weekday and date apart", "Friday. March 3", []string{"date:Friday=2026-03-13", "date:March 3=2026-03-03"}},
	})
}

func TestNearestDate(t *testing.T) {
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		name  string
		today time.Time
		month time.Month
		day   int
		want  time.Time
	}{
		{"same day", day(2026, 3, 10), time.March, 10, day(2026, 3, 10)},
		{"recent past", day(2026, 1, 5), time.December, 28, day(2025, 12, 28)},
		{"near future across new year", day(2025, 12, 20), time.January, 3, day(2026, 1, 3)},
		{"182 days ahead beats 183 back", day(2026, 1, 5), time.July, 6, day(2026, 7, 6)},
		{"181 days back beats 184 ahead", day(2026, 1, 5), time.July, 8, day(2025, 7, 8)},
		{"exact tie goes to the future", day(2027, 9, 1), time.March, 2, day(2028, 3, 2)},
		{"leap day", day(2026, 3, 10), time.February, 29, day(2028, 2, 29)},
		{"leap day in a leap year", day(2028, 1, 1), time.February, 29, day(2028, 2, 29)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := nearest(tc.today, tc.month, tc.day)
			if !ok || !got.Equal(tc.want) {
				t.Errorf("nearest(%s, %s %d) = %s, %v; want %s", tc.today.Format(time.DateOnly), tc.month, tc.day, got.Format(time.DateOnly), ok, tc.want.Format(time.DateOnly))
			}
		})
	}
	if _, ok := nearest(day(2026, 3, 10), time.February, 30); ok {
		t.Error("nearest found 30 February")
	}
}

func TestDateLocation(t *testing.T) {
	late := time.Date(2026, 3, 10, 23, 30, 0, 0, time.UTC)
	tests := []struct {
		name string
		loc  *time.Location
		want string
	}{
		{"nil is UTC", nil, "2026-03-10"},
		{"ahead of UTC", time.FixedZone("UTC+10", 10*3600), "2026-03-11"},
		{"behind UTC", time.FixedZone("UTC-5", -5*3600), "2026-03-10"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := mustNew(t, nil, &Options{Location: tc.loc})
			got := x.Extract("today", late)
			if len(got) != 1 || got[0].Value != tc.want {
				t.Errorf("today at %s in %v = %+v; want %s", late, tc.loc, got, tc.want)
			}
		})
	}
}

func TestOrder(t *testing.T) {
	x := mustNew(t, nil, nil)
	runShort(t, x, tuesday, []shortCase{
		{"hash", "where is #10423?", []string{"order_id:#10423=10423"}},
		{"order word", "order 10423 is late", []string{"order_id:order 10423=10423"}},
		{"order hash", "Order #10423", []string{"order_id:Order #10423=10423"}},
		{"order number", "my order number is 10423", []string{"order_id:10423=10423"}},
		{"order no", "order no. 1042", []string{"order_id:order no. 1042=1042"}},
		{"no dot", "no. 10423", []string{"order_id:no. 10423=10423"}},
		{"ref colon", "ref: 10423", []string{"order_id:ref: 10423=10423"}},
		{"bare five digits", "10423", []string{"order_id:10423=10423"}},
		{"bare ten digits", "5551234567", []string{"order_id:5551234567=5551234567"}},
		{"marked four digits", "#1042", []string{"order_id:#1042=1042"}},
		{"bare four digits is not", "back in 2024", nil},
		{"eleven digits is not", "order 12345678901", []string{"phone:12345678901=12345678901"}},
		{"decimal is not", "12345.50", nil},
		{"negative is not", "-12345", nil},
		{"three digits is not", "#104", nil},
		{"glued to letters is not", "abc10423", nil},
	})
}

func TestOrderPatternOptions(t *testing.T) {
	tests := []struct {
		name string
		defs []Def
		opts *Options
		text string
		want []string
	}{
		{"custom pattern with group", nil, &Options{OrderPattern: `\bORD-(\d{6})\b`}, "ORD-123456 and 10423",
			[]string{"order_id:ORD-123456=123456"}},
		{"custom pattern without group", nil, &Options{OrderPattern: `\b[A-Z]{2}\d{6}\b`}, "is AB123456 shipped?",
			[]string{"order_id:AB123456=AB123456"}},
		{"def overrides option", []Def{{Name: "order_id", Pattern: `\b(?:order )?([A-Z]-\d{4})\b`}}, &Options{OrderPattern: `\d+`},
			"order X-1234 not 10423", []string{"order_id:order X-1234=X-1234"}},
		{"def overrides default", []Def{{Name: "order_id", Pattern: `#([a-z]{3})`}}, nil, "#abc #10423",
			[]string{"order_id:#abc=abc"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := mustNew(t, tc.defs, tc.opts)
			got := x.Extract(tc.text, tuesday)
			if g := short(got); !equalStrings(g, tc.want) {
				t.Errorf("Extract(%q) = %q; want %q", tc.text, g, tc.want)
			}
		})
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestDateTense(t *testing.T) {
	x := mustNew(t, nil, nil)
	thursday := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC) // the day the issue was filed
	runShort(t, x, thursday, []shortCase{
		// The past: the latest occurrence on or before today.
		{"charged twice", "I was charged twice on 3 March", []string{"date:3 March=2026-03-03"}},
		{"regular past verb", "I ordered it on 20 February", []string{"date:20 February=2026-02-20"}},
		{"past verb after the date", "on 20 Feb the parcel arrived broken", []string{"date:20 Feb=2026-02-20"}},
		{"was due", "my order was due December 28", []string{"date:December 28=2025-12-28"}},
		{"been since", "I've been waiting since 4 December", []string{"date:4 December=2025-12-04"}},
		{"negated past", "it wasn't delivered on 1 March", []string{"date:1 March=2026-03-01"}},
		{"ago", "two weeks ago, on 31 January, nothing", []string{"date:31 January=2026-01-31"}},
		{"last", "last year on 10 January", []string{"date:10 January=2026-01-10"}},
		{"irregular past", "I paid on March 3rd", []string{"date:March 3rd=2026-03-03"}},
		{"today is not the future", "on 3 December I was charged", []string{"date:3 December=2026-12-03"}},
		{"order number dot stays in the sentence", "I was charged for order no. 1047 on 20 Feb", []string{"order_id:order no. 1047=1047", "date:20 Feb=2026-02-20"}},
		{"abbreviated month dot stays in the sentence", "it came Mar. 3", []string{"date:Mar. 3=2026-03-03"}},
		{"leap day in the past", "I was charged on 29 February", []string{"date:29 February=2024-02-29"}},
		// The future: the earliest occurrence on or after today.
		{"will", "it will arrive on 1 December", []string{"date:1 December=2027-12-01"}},
		{"next", "next time, send it on 20 October", []string{"date:20 October=2027-10-20"}},
		{"contraction after the date", "On 20 October I'll be away", []string{"date:20 October=2027-10-20"}},
		{"won't", "I won't be home on 1 December", []string{"date:1 December=2027-12-01"}},
		{"going to", "we're going to move on 1 November", []string{"date:1 November=2027-11-01"}},
		{"future today", "it will arrive on 3 December", []string{"date:3 December=2026-12-03"}},
		// The nearest cue in the sentence decides.
		{"future nearer than past", "I was told it will arrive on 1 December", []string{"date:1 December=2027-12-01"}},
		{"past nearer than future", "I was charged on 3 March and it will be refunded", []string{"date:3 March=2026-03-03"}},
		// Ambiguous: no cue, or cues only in another sentence; the nearest
		// occurrence, before or after, as before tense was read.
		{"no cue", "3 March", []string{"date:3 March=2027-03-03"}},
		{"no verb", "about the charge on 3 March", []string{"date:3 March=2027-03-03"}},
		{"cue in another sentence", "It was broken. Can you deliver on 20 February?", []string{"date:20 February=2027-02-20"}},
		{"cue on another line", "I was charged\n20 February", []string{"date:20 February=2027-02-20"}},
		{"present passive", "it is delivered on 20 February", []string{"date:20 February=2027-02-20"}},
		{"plan participle", "it's scheduled for 20 February", []string{"date:20 February=2027-02-20"}},
		{"eed is not past", "I need it on 20 February", []string{"date:20 February=2027-02-20"}},
		{"year wins over tense", "I was charged on 3 March 2027", []string{"date:3 March 2027=2027-03-03"}},
		// Weekdays: a bare weekday or "on X" in the past is the latest one
		// before today; modifiers keep their meaning.
		{"came monday", "it came Monday", []string{"date:Monday=2026-11-30"}},
		{"charged on friday", "I was charged on Friday", []string{"date:Friday=2026-11-27"}},
		{"same weekday in the past is a week ago", "I was charged on Thursday", []string{"date:Thursday=2026-11-26"}},
		{"ordered on monday, when will it arrive", "i ordered on monday, when will it arrive?", []string{"date:monday=2026-11-30"}},
		{"future weekday", "on Friday I'll be out", []string{"date:Friday=2026-12-04"}},
		{"bare weekday", "Friday", []string{"date:Friday=2026-12-04"}},
		{"next wins over past", "it was moved to next Friday", []string{"date:next Friday=2026-12-11"}},
		{"this wins over past", "I was told this Friday", []string{"date:this Friday=2026-12-04"}},
		{"relative words ignore tense", "I will call about yesterday", []string{"date:yesterday=2026-12-02"}},
	})
}

package entity

import "regexp/syntax"

// requiredLiteral returns the longest case-sensitive literal that every match
// of pattern contains (a literal at the top level of the expression), or ""
// when there is none. Extract skips the expression when the text lacks it:
// strings.Contains is far cheaper than running a regexp that cannot match,
// and a pattern such as `\bSKU-\d+` gives Go's regexp no prefix to skip by.
func requiredLiteral(pattern string) string {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return ""
	}
	return literalIn(re.Simplify())
}

func literalIn(re *syntax.Regexp) string {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return ""
		}
		return string(re.Rune)
	case syntax.OpCapture:
		return literalIn(re.Sub[0])
	case syntax.OpConcat:
		best := ""
		for _, sub := range re.Sub {
			if l := literalIn(sub); len(l) > len(best) {
				best = l
			}
		}
		return best
	case syntax.OpPlus:
		return literalIn(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return literalIn(re.Sub[0])
		}
	}
	return ""
}

// Package glob implements Redis's glob-style pattern matching.
//
// Match and MatchString are a line-by-line port of stringmatchlen from
// Redis 7.0 (src/util.c), the matcher behind KEYS, SCAN MATCH, PSUBSCRIBE,
// CONFIG GET and ACL key patterns. It is deliberately bug-compatible:
//
//   - '*' matches any run of bytes, '?' any single byte.
//   - '[...]' is a class; a leading '^' negates it, "a-z" is a range
//     (a reversed range such as "z-a" is swapped), and '\' escapes the
//     next byte. An unterminated class is closed at the end of the pattern.
//   - Outside a class, '\' escapes the next byte; a trailing '\' matches
//     a literal backslash.
//   - Range bounds are compared as C signed chars, so bytes >= 0x80 sort
//     before ASCII exactly as they do in Redis on x86-64.
//   - Case folding (nocase) only folds ASCII letters, as tolower does in
//     the "C" locale Redis runs in.
//   - Recursion through '*' is limited to a nesting depth of 1000; deeper
//     patterns do not match. Once the tail after a '*' fails to match at
//     every position, no earlier '*' retries longer matches
//     (skipLongerMatches), which keeps the matcher polynomial.
//
// Where the C code reads the NUL terminator past the end of the pattern,
// the port reads a zero byte, so patterns containing NUL bytes behave as in
// Redis too.
package glob

// Match reports whether s matches the Redis glob pattern. When nocase is
// true ASCII letters are compared case-insensitively.
func Match(pattern, s []byte, nocase bool) bool {
	skip := false
	return match(pattern, 0, s, 0, nocase, &skip, 0)
}

// MatchString is Match for strings. It does not allocate.
func MatchString(pattern, s string, nocase bool) bool {
	skip := false
	return match(pattern, 0, s, 0, nocase, &skip, 0)
}

// maxNesting is the recursion limit of Redis 7.0's stringmatchlen_impl.
const maxNesting = 1000

// at returns p[i], or 0 past the end: the C code relies on the sds NUL
// terminator in exactly those places.
func at[T string | []byte](p T, i int) byte {
	if i < len(p) {
		return p[i]
	}
	return 0
}

// lower is tolower() in the "C" locale.
func lower(c int) int {
	if c >= 'A' && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}

// match is stringmatchlen_impl. The C pointer arithmetic is kept as index
// arithmetic (pi/plen, si/slen) so the two can be compared side by side.
func match[T string | []byte](p T, pi int, s T, si int, nocase bool, skipLonger *bool, nesting int) bool {
	if nesting > maxNesting {
		return false
	}
	plen := len(p) - pi
	slen := len(s) - si

	for plen > 0 && slen > 0 {
		switch p[pi] {
		case '*':
			for plen > 0 && at(p, pi+1) == '*' {
				pi++
				plen--
			}
			if plen == 1 {
				return true
			}
			for slen > 0 {
				if match(p, pi+1, s, si, nocase, skipLonger, nesting+1) {
					return true
				}
				if *skipLonger {
					return false
				}
				si++
				slen--
			}
			// The rest of the pattern matches nowhere in the rest of the
			// string, so no earlier '*' can help by matching more.
			*skipLonger = true
			return false
		case '?':
			si++
			slen--
		case '[':
			pi++
			plen--
			not := at(p, pi) == '^'
			if not {
				pi++
				plen--
			}
			matched := false
			for {
				c0 := at(p, pi)
				if c0 == '\\' && plen >= 2 {
					pi++
					plen--
					if at(p, pi) == s[si] {
						matched = true
					}
				} else if c0 == ']' {
					break
				} else if plen == 0 {
					// Unterminated class: step back so the increment below
					// lands exactly on the end of the pattern.
					pi--
					plen++
					break
				} else if plen >= 3 && at(p, pi+1) == '-' {
					start := int(int8(c0))
					end := int(int8(at(p, pi+2)))
					c := int(int8(s[si]))
					if start > end {
						start, end = end, start
					}
					if nocase {
						start = lower(start)
						end = lower(end)
						c = lower(c)
					}
					pi += 2
					plen -= 2
					if c >= start && c <= end {
						matched = true
					}
				} else if !nocase {
					if c0 == s[si] {
						matched = true
					}
				} else if lower(int(c0)) == lower(int(s[si])) {
					matched = true
				}
				pi++
				plen--
			}
			if not {
				matched = !matched
			}
			if !matched {
				return false
			}
			si++
			slen--
		case '\\':
			if plen >= 2 {
				pi++
				plen--
			}
			fallthrough
		default:
			pc := at(p, pi)
			if !nocase {
				if pc != s[si] {
					return false
				}
			} else if lower(int(pc)) != lower(int(s[si])) {
				return false
			}
			si++
			slen--
		}
		pi++
		plen--
		if slen == 0 {
			for at(p, pi) == '*' {
				pi++
				plen--
			}
			break
		}
	}
	return plen == 0 && slen == 0
}

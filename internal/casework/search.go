package casework

import (
	"strings"
	"unicode"

	"golang.org/x/text/width"
)

// SearchTerms returns the index terms of a text: every Han character, every
// pair of adjacent Han characters, and every Latin or digit word, folded to
// half-width lower case. Chinese has no spaces between words and most words
// are two characters, so bigrams find "合同" in "买卖合同纠纷" where trigram
// and word indexes cannot.
func SearchTerms(texts ...string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(t string) {
		if t != "" && !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	for _, text := range texts {
		forEachRun(text, func(run []rune, han bool) {
			if !han {
				add(string(run))
				return
			}
			for i := range run {
				add(string(run[i]))
				if i+1 < len(run) {
					add(string(run[i : i+2]))
				}
			}
		})
	}
	return out
}

// QueryTerms returns the terms a query must all match: whole Latin words,
// a single Han character as itself, and Han runs as bigrams that tile the
// run without overlapping (劳动仲裁 → 劳动, 仲裁; an odd run ends on its last
// pair). Overlapping pairs add nothing the tiling pairs miss in practice,
// and each extra term makes PostgreSQL underestimate the matches and pick a
// slow plan.
func QueryTerms(q string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(t string) {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	forEachRun(q, func(run []rune, han bool) {
		if !han || len(run) == 1 {
			add(string(run))
			return
		}
		for i := 0; i+1 < len(run); i += 2 {
			add(string(run[i : i+2]))
		}
		if len(run)%2 == 1 {
			add(string(run[len(run)-2:]))
		}
	})
	return out
}

// forEachRun splits text into runs of Han characters and runs of letters
// and digits; everything else separates runs.
func forEachRun(text string, fn func(run []rune, han bool)) {
	text = strings.ToLower(width.Fold.String(text))
	var run []rune
	runHan := false
	flush := func() {
		if len(run) > 0 {
			fn(run, runHan)
			run = nil
		}
	}
	for _, r := range text {
		switch {
		case unicode.Is(unicode.Han, r):
			if !runHan {
				flush()
			}
			runHan = true
			run = append(run, r)
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if runHan {
				flush()
			}
			runHan = false
			run = append(run, r)
		default:
			flush()
		}
	}
	flush()
}

// allHan reports whether s is Han characters only.
func allHan(s string) bool {
	for _, r := range s {
		if !unicode.Is(unicode.Han, r) {
			return false
		}
	}
	return s != ""
}

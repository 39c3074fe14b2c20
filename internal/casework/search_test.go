package casework

import (
	"slices"
	"testing"
)

func TestQueryTermsTileHanRuns(t *testing.T) {
	for q, want := range map[string][]string{
		"劳动仲裁":     {"劳动", "仲裁"},
		"劳动仲裁庭":    {"劳动", "仲裁", "裁庭"},
		"合同":       {"合同"},
		"合":        {"合"},
		"ABC公司 合同": {"abc", "公司", "合同"},
		"Ｇ Ｃ-2026": {"g", "c", "2026"},
	} {
		if got := QueryTerms(q); !slices.Equal(got, want) {
			t.Errorf("%q → %v, want %v", q, got, want)
		}
	}
	// Every query term of a text is among the text's index terms.
	text := "买卖合同纠纷胜诉后对方拒不履行"
	terms := SearchTerms(text)
	for _, q := range []string{"合同纠纷", "拒不履行", "纠纷胜诉后", "买卖合同纠纷胜诉后对方拒不履行"} {
		for _, term := range QueryTerms(q) {
			if !slices.Contains(terms, term) {
				t.Errorf("%q: term %q is not indexed", q, term)
			}
		}
	}
}

package identity

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"greenchannel/internal/platform/fault"
)

// USCC is a Unified Social Credit Code (统一社会信用代码, GB 32100-2015).
type USCC string

// usccAlphabet holds the 31 characters a code may use, in value order
// (0–30). I, O, Z, S and V are never used.
const usccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// usccWeights are 3^(i-1) mod 31 for positions 1..17.
var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// NormalizeUSCC trims, drops spaces and hyphens, and upper-cases.
func NormalizeUSCC(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\u3000' {
			return -1
		}
		return r
	}, s)
}

// ParseUSCC normalises s and checks length, alphabet and check character.
// On failure it returns a fault.Invalid naming field with a message the
// user can act on.
func ParseUSCC(field, s string) (USCC, error) {
	code, err := parseUSCC(field, s, false)
	return code, err
}

// ParseUSCCOverride is ParseUSCC for an administrator who has confirmed a
// legal early code whose check character does not compute: length and
// alphabet are still enforced.
func ParseUSCCOverride(field, s string) (USCC, error) {
	return parseUSCC(field, s, true)
}

func parseUSCC(field, s string, allowBadCheck bool) (USCC, error) {
	code := NormalizeUSCC(s)
	if n := utf8.RuneCountInString(code); n != 18 {
		return "", fault.InvalidField(field, "统一社会信用代码应为18位 / a credit code has 18 characters, got "+strconv.Itoa(n))
	}
	for i, r := range code {
		if !strings.ContainsRune(usccAlphabet, r) {
			return "", fault.InvalidField(field, "第"+strconv.Itoa(i+1)+"位字符 "+string(r)+" 不允许 / character "+string(r)+
				" at position "+strconv.Itoa(i+1)+" is not allowed (only 0-9 and A-Y without I, O, Z, S, V)")
		}
	}
	if want := CheckCharacter(code[:17]); code[17] != want && !allowBadCheck {
		return "", fault.InvalidField(field, "校验位错误 / the check character is wrong: expected "+string(want)+", got "+string(code[17]))
	}
	return USCC(code), nil
}

// CheckCharacter returns the check character for the first 17 characters,
// which must already be in the alphabet.
func CheckCharacter(first17 string) byte {
	sum := 0
	for i := 0; i < 17 && i < len(first17); i++ {
		sum += strings.IndexByte(usccAlphabet, first17[i]) * usccWeights[i]
	}
	return usccAlphabet[(31-sum%31)%31]
}

// Authority decodes position 1, the registering authority.
func (c USCC) Authority() string {
	if len(c) < 1 {
		return ""
	}
	switch c[0] {
	case '1':
		return "机构编制"
	case '2':
		return "外交"
	case '3':
		return "司法行政"
	case '4':
		return "文化"
	case '5':
		return "民政"
	case '6':
		return "旅游"
	case '7':
		return "宗教"
	case '8':
		return "工会"
	case '9':
		return "市场监督管理"
	case 'A':
		return "中央军委改革和编制办公室"
	case 'N':
		return "农业"
	case 'Y':
		return "其他"
	}
	return "未知"
}

// Category decodes position 2 for codes issued by market regulation.
func (c USCC) Category() string {
	if len(c) < 2 || c[0] != '9' {
		return ""
	}
	switch c[1] {
	case '1':
		return "企业"
	case '2':
		return "个体工商户"
	case '3':
		return "农民专业合作社"
	}
	return "其他"
}

// Division is positions 3–8, the administrative division code.
func (c USCC) Division() string {
	if len(c) < 8 {
		return ""
	}
	return string(c[2:8])
}

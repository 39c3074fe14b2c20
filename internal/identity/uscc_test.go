package identity

import (
	"testing"

	"greenchannel/internal/platform/fault"
)

func TestUSCCWorkedExamples(t *testing.T) {
	for _, code := range []string{"91110000600037341L", "91350100M000100Y43", "91512081MA62K0260E"} {
		got, err := ParseUSCC("uscc", code)
		if err != nil || string(got) != code {
			t.Errorf("%s: %v", code, err)
		}
	}
	got, err := ParseUSCC("uscc", " 9151-2081 ma62k0260e ")
	if err != nil || got != "91512081MA62K0260E" {
		t.Errorf("normalisation: %q %v", got, err)
	}
	if got.Authority() != "市场监督管理" || got.Category() != "企业" || got.Division() != "512081" {
		t.Errorf("decode: %s %s %s", got.Authority(), got.Category(), got.Division())
	}
}

func TestUSCCRejections(t *testing.T) {
	for name, code := range map[string]string{
		"wrong check character": "91110000600037341M",
		"forbidden I":           "9111000060003734IL",
		"forbidden O":           "91110000O00037341L",
		"forbidden Z":           "9111000060003Z341L",
		"forbidden S":           "911100006000S7341L",
		"forbidden V":           "91110000600V37341L",
		"too short":             "91110000600037341",
		"too long":              "91110000600037341LL",
		"empty":                 "",
		"wide characters":       "９１１１０００００６０００３７３４１Ｌ",
	} {
		_, err := ParseUSCC("uscc", code)
		f, ok := fault.As(err)
		if !ok || f.Kind != fault.Invalid || len(f.Fields) != 1 || f.Fields[0].Name != "uscc" || f.Fields[0].Message == "" {
			t.Errorf("%s (%q): want a field-level invalid fault, got %v", name, code, err)
		}
	}
}

func TestUSCCOverrideKeepsFormatRules(t *testing.T) {
	if _, err := ParseUSCCOverride("uscc", "91110000600037341M"); err != nil {
		t.Fatalf("override must accept a bad check character: %v", err)
	}
	if _, err := ParseUSCCOverride("uscc", "9111000060003734IL"); err == nil {
		t.Fatal("override must still refuse forbidden letters")
	}
}

func FuzzParseUSCC(f *testing.F) {
	for _, s := range []string{"91110000600037341L", "", "ZZZ", "9151-2081 MA62K0260E", "\xff\xfe", "９１"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		code, err := ParseUSCC("uscc", s)
		if err == nil {
			if len(code) != 18 || CheckCharacter(string(code[:17])) != code[17] {
				t.Fatalf("accepted invalid %q", s)
			}
			_ = code.Authority() + code.Category() + code.Division()
		} else if !fault.Is(err, fault.Invalid) {
			t.Fatalf("unexpected error kind for %q: %v", s, err)
		}
	})
}

package web

import (
	"io/fs"
	"regexp"
	"testing"
)

// Every phrase a page translates has its English, so switching to English
// never leaves a screen half Chinese.
func TestEveryPhraseHasEnglish(t *testing.T) {
	var phrases []string
	trCall := regexp.MustCompile(`\btr "([^"]+)"`)
	files, _ := fs.Glob(templateFS, "templates/*.html")
	for _, f := range files {
		b, _ := fs.ReadFile(templateFS, f)
		for _, m := range trCall.FindAllStringSubmatch(string(b), -1) {
			phrases = append(phrases, m[1])
		}
	}
	for _, s := range statusZh {
		phrases = append(phrases, s)
	}
	for _, m := range []map[string]string{actionZh, ruleZh, words, funcsFor(langZh)["tabnames"].(func() map[string]string)()} {
		for _, s := range m {
			phrases = append(phrases, s)
		}
	}
	for _, s := range priorityZh {
		phrases = append(phrases, s)
	}
	phrases = append(phrases, evaluationTags...)
	phrases = append(phrases, "受理期限", "办结期限", "答复期限", "检查次数", "诉求件数", "及时响应率 %", "重复检查", "超期")
	for _, p := range phrases {
		if _, ok := english[p]; !ok {
			t.Errorf("no English for %q", p)
		}
	}
}

func TestDomainMessagesShowTheReadersSide(t *testing.T) {
	msg := "办结后才能评价 / rate the request once it is resolved；评分为1到5 / rating is 1 to 5"
	if got := plain(langZh, msg); got != "办结后才能评价；评分为1到5" {
		t.Fatalf("zh: %q", got)
	}
	if got := plain(langEn, msg); got != "rate the request once it is resolved；rating is 1 to 5" {
		t.Fatalf("en: %q", got)
	}
}

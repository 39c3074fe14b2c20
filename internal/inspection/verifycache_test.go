package inspection

import (
	"strconv"
	"testing"
)

func TestVerifyCacheKeepsOnlyWhatNoChangeOvertook(t *testing.T) {
	c := newVerifyCache()
	page := &Verified{Inspection: &Inspection{Code: "A"}}
	if _, gen := c.get("A"); true {
		c.put("A", page, gen)
	}
	if v, _ := c.get("A"); v != nil {
		t.Fatal("kept while nobody listens for changes")
	}
	c.setListening(true)
	_, gen := c.get("A")
	c.forget("B") // any change while A was being read
	c.put("A", page, gen)
	if v, _ := c.get("A"); v != nil {
		t.Fatal("a page read before a change was kept")
	}
	_, gen = c.get("A")
	c.put("A", page, gen)
	if v, _ := c.get("A"); v != page {
		t.Fatal("not kept")
	}
	c.forget("A")
	if v, _ := c.get("A"); v != nil {
		t.Fatal("kept after its change")
	}
	_, gen = c.get("A")
	c.put("A", page, gen)
	c.setListening(false)
	if v, _ := c.get("A"); v != nil {
		t.Fatal("kept after listening stopped")
	}
}

func TestVerifyCacheKeepsTheCodesScannedLately(t *testing.T) {
	c := newVerifyCache()
	c.setListening(true)
	page := &Verified{}
	for n := range verifyCacheSize * 2 {
		code := strconv.Itoa(n)
		_, gen := c.get(code)
		c.put(code, page, gen)
		if n%1000 == 0 {
			c.get("0") // scanned again and again
		}
	}
	if v, _ := c.get("0"); v == nil {
		t.Fatal("a code scanned all along was dropped")
	}
	if v, _ := c.get("1"); v != nil {
		t.Fatal("an old code scanned once was kept past two generations")
	}
	if len(c.cur)+len(c.prev) > 2*verifyCacheSize {
		t.Fatalf("%d pages kept", len(c.cur)+len(c.prev))
	}
}

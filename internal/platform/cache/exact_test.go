package cache

import (
	"strconv"
	"testing"
	"time"
)

func TestExactKeepsOnlyWhatNoChangeOvertook(t *testing.T) {
	c := NewExact[string, int](10, time.Hour)
	kept := func(k string) bool { _, ok, _ := c.Get(k); return ok }
	if _, _, gen := c.Get("A"); true {
		c.Put("A", 1, gen)
	}
	if kept("A") {
		t.Fatal("kept while nobody listens for changes")
	}
	c.setListening(true)
	_, _, gen := c.Get("A")
	c.Forget("B") // any change while A was being read
	c.Put("A", 1, gen)
	if kept("A") {
		t.Fatal("a value read before a change was kept")
	}
	_, _, gen = c.Get("A")
	c.Put("A", 1, gen)
	if v, ok, _ := c.Get("A"); !ok || v != 1 {
		t.Fatal("not kept")
	}
	c.Forget("A")
	if kept("A") {
		t.Fatal("kept after its change")
	}
	_, _, gen = c.Get("A")
	c.Put("A", 1, gen)
	c.ForgetAll()
	if kept("A") {
		t.Fatal("kept after everything changed")
	}
	_, _, gen = c.Get("A")
	c.Put("A", 1, gen)
	c.setListening(false)
	if kept("A") {
		t.Fatal("kept after listening stopped")
	}
}

func TestExactKeepsWhatIsReadLately(t *testing.T) {
	const size = 1000
	c := NewExact[string, int](size, time.Hour)
	c.setListening(true)
	for n := range size * 2 {
		k := strconv.Itoa(n)
		_, _, gen := c.Get(k)
		c.Put(k, n, gen)
		if n%100 == 0 {
			c.Get("0") // read again and again
		}
	}
	if _, ok, _ := c.Get("0"); !ok {
		t.Fatal("a key read all along was dropped")
	}
	if _, ok, _ := c.Get("1"); ok {
		t.Fatal("an old key read once was kept past two generations")
	}
	if n := len(c.cur) + len(c.prev); n > 2*size {
		t.Fatalf("%d entries kept", n)
	}
}

// An entry is read afresh once it is maxAge old, notified or not.
func TestExactKeepsNothingPastItsAge(t *testing.T) {
	c := NewExact[string, int](10, time.Minute)
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	c.now = func() time.Time { return now }
	c.setListening(true)
	_, _, gen := c.Get("A")
	c.Put("A", 1, gen)
	now = now.Add(59 * time.Second)
	if _, ok, _ := c.Get("A"); !ok {
		t.Fatal("dropped before its age")
	}
	now = now.Add(time.Second)
	if _, ok, _ := c.Get("A"); ok {
		t.Fatal("kept at its age")
	}
	_, _, gen = c.Get("A")
	c.Put("A", 2, gen)
	if v, ok, _ := c.Get("A"); !ok || v != 2 {
		t.Fatal("a fresh read was not kept")
	}
}

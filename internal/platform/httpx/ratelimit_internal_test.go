package httpx

import (
	"fmt"
	"testing"
	"time"
)

func TestMinuteCounterCountsEachAddressAndStartsAfreshEachMinute(t *testing.T) {
	m := newMinuteCounter(2)
	t0 := time.Date(2026, 3, 2, 9, 0, 10, 0, time.UTC)
	for i, want := range []bool{true, true, false, false} {
		if got := m.allow("10.0.0.1", t0); got != want {
			t.Fatalf("request %d of 10.0.0.1: %v", i+1, got)
		}
	}
	if !m.allow("10.0.0.2", t0.Add(49*time.Second)) {
		t.Fatal("another address shares the first one's count")
	}
	if !m.allow("10.0.0.1", t0.Add(50*time.Second)) { // 09:01:00
		t.Fatal("a new minute still counts the last one")
	}
}

// A minute of scans from 300,000 phones (5,000 a second, each from an
// address of its own) and a flood from a few addresses: the phones are not
// refused for sharing counters with each other or with the flood.
func TestMinuteCounterKeepsManyAddressesApart(t *testing.T) {
	m := newMinuteCounter(60)
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for f := range 100 {
		for range 1000 {
			m.allow(fmt.Sprintf("192.0.2.%d", f), t0)
		}
	}
	refused := 0
	for i := range 300_000 {
		phone := fmt.Sprintf("10.%d.%d.%d", i>>16, (i>>8)&255, i&255)
		for range 3 {
			if !m.allow(phone, t0) {
				refused++
			}
		}
	}
	if refused > 0 {
		t.Fatalf("%d scans of honest phones refused", refused)
	}
	if m.allow("192.0.2.7", t0) {
		t.Fatal("the flood was let through")
	}
}

package inspection

import "testing"

func TestCodesVerifyAndForgeriesDoNot(t *testing.T) {
	key, other := []byte("k1-0123456789abcdef0123456789abcd"), []byte("k2-0123456789abcdef0123456789abcd")
	seen := map[string]bool{}
	for range 1000 {
		c := SignCode(key, drawRandom())
		if len(c) != 12 || seen[c] {
			t.Fatalf("code %q (len %d, repeat %v)", c, len(c), seen[c])
		}
		seen[c] = true
		if !validCode([][]byte{key}, c) {
			t.Fatalf("%s does not verify", c)
		}
		if !validCode([][]byte{other, key}, c) {
			t.Fatal("a rotated-out key must still verify its codes")
		}
		if validCode([][]byte{other}, c) {
			t.Fatal("another key's code verified")
		}
		// Change one symbol: the MAC no longer fits.
		b := []byte(c)
		b[5] = codeAlphabet[(indexOf(b[5])+1)%32]
		if validCode([][]byte{key}, string(b)) {
			t.Fatalf("altered code %s verified", b)
		}
	}
	for _, bad := range []string{"", "SHORT", "ABCDEFGHJKLM0", "abcdefghjklm", "IIIIIIIIIIII"} {
		if validCode([][]byte{key}, bad) {
			t.Fatalf("%q verified", bad)
		}
	}
	if NormalizeCode(" abcd-efgh-jklm ") != "ABCDEFGHJKLM" {
		t.Fatal("normalise")
	}
}

func indexOf(b byte) int {
	for i := range codeAlphabet {
		if codeAlphabet[i] == b {
			return i
		}
	}
	return -1
}

func TestMaskName(t *testing.T) {
	for in, want := range map[string]string{"张晓明": "张*明", "吴明": "吴*", "欧阳娜娜": "欧**娜", "王": "王"} {
		if got := MaskName(in); got != want {
			t.Errorf("%s → %s, want %s", in, got, want)
		}
	}
}

package inspection

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"strings"
)

// codeAlphabet has 32 symbols that are hard to misread when typed from a
// sticker: no I, O, 0 or 1.
const codeAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// Codes are 12 symbols, 60 bits: 32 random bits and a 28-bit HMAC of them.
// A forged or altered code fails the MAC before any lookup; a guessed one
// has a 1 in 2^28 chance, and the verify endpoint is rate-limited.
const codeLen = 12

// drawRandom is the 32 random bits of a new code.
func drawRandom() uint32 {
	var r [4]byte
	_, _ = rand.Read(r[:])
	return binary.BigEndian.Uint32(r[:])
}

// SignCode is the code of the 32 random bits with key's MAC. Loaders that
// write inspections in bulk (the benchmark) use it to make codes the
// server accepts.
func SignCode(key []byte, random uint32) string {
	var r [4]byte
	binary.BigEndian.PutUint32(r[:], random)
	return encodeCode(random, mac(key, r[:]))
}

func mac(key, random []byte) uint32 {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("inspection-code:"))
	m.Write(random)
	sum := m.Sum(nil)
	return binary.BigEndian.Uint32(sum[:4]) >> 4 // 28 bits
}

func encodeCode(random, tag uint32) string {
	v := uint64(random)<<28 | uint64(tag)
	var b [codeLen]byte
	for i := codeLen - 1; i >= 0; i-- {
		b[i] = codeAlphabet[v&31]
		v >>= 5
	}
	return string(b[:])
}

// NormalizeCode upper-cases and drops spaces and dashes people type.
func NormalizeCode(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, strings.ToUpper(strings.TrimSpace(s)))
}

// validCode reports whether code carries a MAC made with one of keys.
func validCode(keys [][]byte, code string) bool {
	if len(code) != codeLen {
		return false
	}
	var v uint64
	for i := 0; i < codeLen; i++ {
		k := strings.IndexByte(codeAlphabet, code[i])
		if k < 0 {
			return false
		}
		v = v<<5 | uint64(k)
	}
	random, tag := uint32(v>>28), uint32(v&(1<<28-1))
	var r [4]byte
	binary.BigEndian.PutUint32(r[:], random)
	for _, key := range keys {
		if subtle.ConstantTimeEq(int32(mac(key, r[:])), int32(tag)) == 1 {
			return true
		}
	}
	return false
}

// MaskName hides the middle of a person's name (张*明), as the public
// verify page shows it.
func MaskName(name string) string {
	r := []rune(name)
	switch len(r) {
	case 0, 1:
		return name
	case 2:
		return string(r[0]) + "*"
	default:
		return string(r[0]) + strings.Repeat("*", len(r)-2) + string(r[len(r)-1])
	}
}

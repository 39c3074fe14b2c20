// Package storage keeps uploaded files (attachments to legal requests)
// behind a small interface, so the local disk used today can be replaced by
// object storage without touching the callers. Files are content-addressed
// by their SHA-256 and only a short list of document and image types, sniffed
// from the bytes themselves, is accepted.
package storage

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// Object describes a stored file.
type Object struct {
	Key         string // opaque storage key; today the SHA-256, so identical uploads are stored once
	Size        int64
	SHA256      string // lowercase hex
	ContentType string // sniffed, one of the allowed types
}

// Store keeps files. Implementations must be safe for concurrent use.
type Store interface {
	// Put streams r into the store. It reads at most max bytes: a longer
	// stream fails with ErrTooLarge and leaves nothing behind. A type outside
	// the allowed list fails with ErrTypeNotAllowed and leaves nothing behind.
	// An empty stream fails with ErrEmpty.
	Put(ctx context.Context, r io.Reader, max int64) (Object, error)
	// Open returns the stored bytes; ErrNotFound when there is no such key.
	Open(ctx context.Context, key string) (io.ReadSeekCloser, error)
}

// Errors returned by Store implementations.
var (
	ErrTooLarge       = errors.New("storage: file too large")
	ErrTypeNotAllowed = errors.New("storage: file type not allowed")
	ErrEmpty          = errors.New("storage: empty file")
	ErrNotFound       = errors.New("storage: file not found")
)

// Content types a Store accepts.
const (
	TypePDF  = "application/pdf"
	TypePNG  = "image/png"
	TypeJPEG = "image/jpeg"
	TypeGIF  = "image/gif"
	TypeWebP = "image/webp"
	TypeDOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	TypeXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	TypePPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
	// TypeLegacyOffice is reported for every OLE compound file (.doc, .xls,
	// .ppt): telling them apart means walking the compound file's directory
	// sectors, which is not worth it just to pick a label.
	TypeLegacyOffice = "application/msword"
)

// SniffLen is how many leading bytes Sniff needs for everything except Office
// Open XML, whose parts may lie further into the file.
const SniffLen = 8 << 10

var (
	magicPDF = []byte("%PDF-")
	magicOLE = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
	magicZIP = []byte("PK\x03\x04")
)

// Sniff returns the content type of a file from its first bytes (SniffLen,
// or the whole file to give Office detection its best chance) and whether it
// is allowed.
//
// Office Open XML is recognised by scanning the ZIP local file headers found
// in head; a part beyond head is not seen, so Local double-checks ZIPs with
// the central directory.
func Sniff(head []byte) (contentType string, allowed bool) {
	switch {
	case bytes.HasPrefix(head, magicPDF):
		return TypePDF, true
	case bytes.HasPrefix(head, magicOLE):
		return TypeLegacyOffice, true
	case bytes.HasPrefix(head, magicZIP):
		if ct := officeType(localHeaderNames(head)); ct != "" {
			return ct, true
		}
		return "application/zip", false
	}
	ct := http.DetectContentType(head)
	switch ct {
	case TypePNG, TypeJPEG, TypeGIF, TypeWebP:
		return ct, true
	}
	// Anything else is refused, text included: HTML and SVG can carry scripts
	// that would run on our origin if ever served inline.
	return ct, false
}

// localHeaderNames walks the ZIP local file headers at the start of b and
// returns the entry names it can reach before b ends or stops looking like a
// ZIP.
func localHeaderNames(b []byte) []string {
	const fixed = 30 // local file header without name and extra field
	var names []string
	off := int64(0)
	for off+fixed <= int64(len(b)) && bytes.Equal(b[off:off+4], magicZIP) {
		h := b[off : off+fixed]
		flags := binary.LittleEndian.Uint16(h[6:])
		compSize := int64(binary.LittleEndian.Uint32(h[18:]))
		nameLen := int64(binary.LittleEndian.Uint16(h[26:]))
		extraLen := int64(binary.LittleEndian.Uint16(h[28:]))
		nameEnd := off + fixed + nameLen
		if nameEnd > int64(len(b)) {
			break
		}
		names = append(names, string(b[off+fixed:nameEnd]))
		data := nameEnd + extraLen
		if flags&0x08 == 0 || compSize != 0 {
			off = data + compSize
			continue
		}
		// Streaming writers (archive/zip among them) put the size in a data
		// descriptor after the data, so the next header can only be found by
		// looking for its signature. Compressed data could contain it by
		// chance; Local does not rely on this scan for ZIPs anyway.
		if data > int64(len(b)) {
			break
		}
		i := bytes.Index(b[data:], magicZIP)
		if i < 0 {
			break
		}
		off = data + int64(i)
	}
	return names
}

// officeType tells which Office Open XML document a ZIP holding the given
// entries is, or "" if it is none or more than one: every OOXML package has a
// [Content_Types].xml, and its parts live under exactly one of word/, xl/ or
// ppt/.
func officeType(names []string) string {
	var contentTypes bool
	var found string
	for _, n := range names {
		var ct string
		switch {
		case n == "[Content_Types].xml":
			contentTypes = true
			continue
		case strings.HasPrefix(n, "word/"):
			ct = TypeDOCX
		case strings.HasPrefix(n, "xl/"):
			ct = TypeXLSX
		case strings.HasPrefix(n, "ppt/"):
			ct = TypePPTX
		default:
			continue
		}
		if found != "" && found != ct {
			return ""
		}
		found = ct
	}
	if !contentTypes {
		return ""
	}
	return found
}

// Local is a Store on the local file system under dir. Files live at
// dir/ab/cd/<hex SHA-256>: the fan-out keeps directories small, and writing
// through dir/tmp (same file system) lets a finished file appear atomically
// by rename, so readers never see a partial upload.
type Local struct {
	dir string
	tmp string
}

var _ Store = (*Local)(nil)

// NewLocal returns a Local storing files under dir, creating it if missing.
func NewLocal(dir string) (*Local, error) {
	if dir == "" {
		return nil, errors.New("storage: empty directory")
	}
	tmp := filepath.Join(dir, "tmp")
	if err := os.MkdirAll(tmp, 0o750); err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	return &Local{dir: dir, tmp: tmp}, nil
}

// Put implements Store.
func (l *Local) Put(ctx context.Context, r io.Reader, max int64) (obj Object, err error) {
	if err := ctx.Err(); err != nil {
		return Object{}, err
	}
	f, err := os.CreateTemp(l.tmp, "put-*")
	if err != nil {
		return Object{}, fmt.Errorf("storage: %w", err)
	}
	tmpName := f.Name()
	keep := false
	defer func() {
		if f != nil {
			f.Close()
		}
		if !keep {
			os.Remove(tmpName)
		}
	}()

	// Reading one byte past the limit is how an over-long stream is told
	// apart from one of exactly max bytes.
	limit := max
	if limit < 0 {
		limit = 0
	}
	if limit < math.MaxInt64 {
		limit++
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(ctxReader{ctx, r}, limit))
	if err != nil {
		if ctx.Err() != nil {
			return Object{}, ctx.Err()
		}
		return Object{}, fmt.Errorf("storage: %w", err)
	}
	switch {
	case n == 0:
		return Object{}, ErrEmpty
	case n > max:
		return Object{}, ErrTooLarge
	}

	ct, err := sniffFile(f, n)
	if err != nil {
		return Object{}, err
	}

	sum := hex.EncodeToString(h.Sum(nil))
	obj = Object{Key: sum, Size: n, SHA256: sum, ContentType: ct}
	final := l.path(sum)
	if _, err := os.Stat(final); err == nil {
		return obj, nil
	}

	// Sync before rename so a crash cannot leave a truncated file under a
	// name that claims a hash of the full content.
	if err := f.Chmod(0o640); err != nil {
		return Object{}, fmt.Errorf("storage: %w", err)
	}
	if err := f.Sync(); err != nil {
		return Object{}, fmt.Errorf("storage: %w", err)
	}
	err = f.Close()
	f = nil
	if err != nil {
		return Object{}, fmt.Errorf("storage: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(final), 0o750); err != nil {
		return Object{}, fmt.Errorf("storage: %w", err)
	}
	if err := os.Rename(tmpName, final); err != nil {
		// A concurrent Put of the same bytes may have won the race; on
		// systems where rename does not replace, that is still success.
		if _, statErr := os.Stat(final); statErr == nil {
			return obj, nil
		}
		return Object{}, fmt.Errorf("storage: %w", err)
	}
	keep = true
	return obj, nil
}

// sniffFile returns the allowed content type of the size bytes in f, or
// ErrTypeNotAllowed.
func sniffFile(f *os.File, size int64) (string, error) {
	head := make([]byte, min(size, SniffLen))
	if _, err := f.ReadAt(head, 0); err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("storage: %w", err)
	}
	if bytes.HasPrefix(head, magicZIP) {
		// The central directory lists every entry wherever it lies, and a ZIP
		// that archive/zip cannot read would not open in Office either, so
		// it overrides the head scan in both directions.
		zr, err := zip.NewReader(f, size)
		if err != nil {
			return "", ErrTypeNotAllowed
		}
		names := make([]string, len(zr.File))
		for i, zf := range zr.File {
			names[i] = zf.Name
		}
		if ct := officeType(names); ct != "" {
			return ct, nil
		}
		return "", ErrTypeNotAllowed
	}
	ct, ok := Sniff(head)
	if !ok {
		return "", ErrTypeNotAllowed
	}
	return ct, nil
}

// Open implements Store.
func (l *Local) Open(ctx context.Context, key string) (io.ReadSeekCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Only the exact shape Put produces is looked up, so no key can name a
	// path outside dir (or the tmp directory inside it).
	if !validKey(key) {
		return nil, ErrNotFound
	}
	f, err := os.Open(l.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	return f, nil
}

func (l *Local) path(key string) string {
	return filepath.Join(l.dir, key[0:2], key[2:4], key)
}

func validKey(key string) bool {
	if len(key) != sha256.Size*2 {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// ctxReader stops a long upload soon after its request is abandoned instead
// of writing the rest of it to disk.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

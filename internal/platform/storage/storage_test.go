package storage

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

const testMax = 20 << 20

func newStore(t *testing.T) (*Local, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "files")
	s, err := NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s, dir
}

func testImage() image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 2, 2))
	img.Set(0, 0, color.RGBA{255, 0, 0, 255})
	img.Set(1, 1, color.RGBA{0, 0, 255, 255})
	return img
}

func pdfFixture() []byte {
	return []byte("%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")
}

func pngFixture(t testing.TB) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, testImage()); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jpegFixture(t testing.TB) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, testImage(), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gifFixture(t testing.TB) []byte {
	var b bytes.Buffer
	if err := gif.Encode(&b, testImage(), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func webpFixture() []byte {
	b := []byte("RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00")
	return append(b, make([]byte, 24)...)
}

func oleFixture() []byte {
	b := []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
	return append(b, bytes.Repeat([]byte{0}, 1016)...)
}

type zipEntry struct {
	name string
	body []byte
}

// zipFixture builds a ZIP with entries in the given order; store keeps the
// entries uncompressed so their size in the file is predictable.
func zipFixture(t testing.TB, store bool, entries ...zipEntry) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		if store {
			h.Method = zip.Store
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func ooxmlFixture(t testing.TB, part string) []byte {
	return zipFixture(t, false,
		zipEntry{"[Content_Types].xml", []byte(`<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`)},
		zipEntry{"_rels/.rels", []byte(`<?xml version="1.0"?><Relationships/>`)},
		zipEntry{part, []byte(`<?xml version="1.0"?><root/>`)},
	)
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// storedFiles lists the regular files under dir outside tmp/ and those inside
// tmp/, to prove that a failed Put left nothing behind.
func storedFiles(t *testing.T, dir string) (stored, tmp []string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		if strings.HasPrefix(rel, "tmp"+string(filepath.Separator)) {
			tmp = append(tmp, rel)
		} else {
			stored = append(stored, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return stored, tmp
}

func assertEmpty(t *testing.T, dir string) {
	t.Helper()
	stored, tmp := storedFiles(t, dir)
	if len(stored) != 0 || len(tmp) != 0 {
		t.Fatalf("leftover files: stored %v, tmp %v", stored, tmp)
	}
}

func TestPutOpenAllowedTypes(t *testing.T) {
	// A stored first entry larger than SniffLen pushes the Word part beyond
	// the head Sniff sees; Local must still accept it via the central
	// directory.
	bigFirst := zipFixture(t, true,
		zipEntry{"docProps/thumbnail.bin", bytes.Repeat([]byte{0xAB}, 2*SniffLen)},
		zipEntry{"[Content_Types].xml", []byte("<Types/>")},
		zipEntry{"word/document.xml", []byte("<w:document/>")},
	)
	if _, ok := Sniff(bigFirst[:SniffLen]); ok {
		t.Fatal("head scan unexpectedly saw the Word part; fixture does not test the fallback")
	}

	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"pdf", pdfFixture(), TypePDF},
		{"png", pngFixture(t), TypePNG},
		{"jpeg", jpegFixture(t), TypeJPEG},
		{"gif", gifFixture(t), TypeGIF},
		{"webp", webpFixture(), TypeWebP},
		{"docx", ooxmlFixture(t, "word/document.xml"), TypeDOCX},
		{"xlsx", ooxmlFixture(t, "xl/workbook.xml"), TypeXLSX},
		{"pptx", ooxmlFixture(t, "ppt/presentation.xml"), TypePPTX},
		{"docx part beyond head", bigFirst, TypeDOCX},
		{"ole", oleFixture(), TypeLegacyOffice},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, dir := newStore(t)
			ctx := context.Background()
			obj, err := s.Put(ctx, bytes.NewReader(tt.data), testMax)
			if err != nil {
				t.Fatalf("Put: %v", err)
			}
			want := Object{Key: sum(tt.data), Size: int64(len(tt.data)), SHA256: sum(tt.data), ContentType: tt.want}
			if obj != want {
				t.Fatalf("Put = %+v, want %+v", obj, want)
			}
			rc, err := s.Open(ctx, obj.Key)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer rc.Close()
			got, err := io.ReadAll(rc)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.data) {
				t.Fatal("reopened bytes differ from the upload")
			}
			if _, err := rc.Seek(0, io.SeekStart); err != nil {
				t.Fatalf("Seek: %v", err)
			}
			stored, tmp := storedFiles(t, dir)
			k := obj.Key
			wantPath := filepath.Join(k[0:2], k[2:4], k)
			if len(stored) != 1 || stored[0] != wantPath || len(tmp) != 0 {
				t.Fatalf("files: stored %v, tmp %v; want only %s", stored, tmp, wantPath)
			}
		})
	}
}

func TestPutRejectsDisallowedTypes(t *testing.T) {
	exe := append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"), make([]byte, 256)...)
	elf := append([]byte("\x7fELF\x02\x01\x01\x00"), make([]byte, 256)...)
	// Local header claiming a Word part, but no central directory after it:
	// the head scan is fooled, the authoritative check is not.
	fakeOffice := zipFixture(t, true,
		zipEntry{"[Content_Types].xml", []byte("<Types/>")},
		zipEntry{"word/document.xml", []byte("<w:document/>")},
	)
	fakeOffice = fakeOffice[:bytes.Index(fakeOffice, []byte("PK\x01\x02"))]
	if _, ok := Sniff(fakeOffice); !ok {
		t.Fatal("head scan should accept the truncated fixture")
	}

	tests := map[string][]byte{
		"exe renamed pdf": exe,
		"elf":             elf,
		"html":            []byte("<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"),
		"svg":             []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`),
		"plain text":      []byte("just some notes\n"),
		"plain zip":       zipFixture(t, false, zipEntry{"report.pdf", pdfFixture()}),
		"zip without content types": zipFixture(t, false,
			zipEntry{"word/document.xml", []byte("<w:document/>")}),
		"zip of two kinds": zipFixture(t, false,
			zipEntry{"[Content_Types].xml", []byte("<Types/>")},
			zipEntry{"word/document.xml", []byte("<w:document/>")},
			zipEntry{"xl/workbook.xml", []byte("<workbook/>")}),
		"truncated office zip": fakeOffice,
		"pdf not at start":     append([]byte(" "), pdfFixture()...),
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			s, dir := newStore(t)
			_, err := s.Put(context.Background(), bytes.NewReader(data), testMax)
			if !errors.Is(err, ErrTypeNotAllowed) {
				t.Fatalf("Put error = %v, want ErrTypeNotAllowed", err)
			}
			assertEmpty(t, dir)
		})
	}
}

func TestPutSizeLimit(t *testing.T) {
	data := append(pdfFixture(), bytes.Repeat([]byte("%"), 1000)...)
	max := int64(len(data))
	ctx := context.Background()

	s, _ := newStore(t)
	if _, err := s.Put(ctx, bytes.NewReader(data[:max-1]), max-1); err != nil {
		t.Fatalf("Put of exactly max bytes: %v", err)
	}
	obj, err := s.Put(ctx, bytes.NewReader(data), max)
	if err != nil {
		t.Fatalf("Put of exactly max bytes: %v", err)
	}
	if obj.Size != max {
		t.Fatalf("Size = %d, want %d", obj.Size, max)
	}

	s, dir := newStore(t)
	if _, err := s.Put(ctx, bytes.NewReader(data), max-1); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Put of max+1 bytes: error = %v, want ErrTooLarge", err)
	}
	// An endless stream must be cut off, not read to the end.
	if _, err := s.Put(ctx, io.MultiReader(bytes.NewReader(pdfFixture()), zeros{}), 4096); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Put of endless stream: error = %v, want ErrTooLarge", err)
	}
	assertEmpty(t, dir)
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestPutEmpty(t *testing.T) {
	s, dir := newStore(t)
	if _, err := s.Put(context.Background(), bytes.NewReader(nil), testMax); !errors.Is(err, ErrEmpty) {
		t.Fatalf("error = %v, want ErrEmpty", err)
	}
	assertEmpty(t, dir)
}

func TestPutCancelled(t *testing.T) {
	s, dir := newStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	r := &cancelAfter{r: io.MultiReader(bytes.NewReader(pdfFixture()), zeros{}), n: 3, cancel: cancel}
	if _, err := s.Put(ctx, r, testMax); !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	assertEmpty(t, dir)
}

// cancelAfter cancels its context once n reads have been served.
type cancelAfter struct {
	r      io.Reader
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	c.n--
	if c.n == 0 {
		c.cancel()
	}
	return c.r.Read(p)
}

func TestPutSameContentTwice(t *testing.T) {
	s, dir := newStore(t)
	ctx := context.Background()
	data := pngFixture(t)
	a, err := s.Put(ctx, bytes.NewReader(data), testMax)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Put(ctx, bytes.NewReader(data), testMax)
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Fatalf("second Put = %+v, first %+v", b, a)
	}
	stored, tmp := storedFiles(t, dir)
	if len(stored) != 1 || len(tmp) != 0 {
		t.Fatalf("files: stored %v, tmp %v; want one stored file", stored, tmp)
	}
}

func TestPutConcurrentSameContent(t *testing.T) {
	s, dir := newStore(t)
	data := ooxmlFixture(t, "word/document.xml")
	const n = 8
	var wg sync.WaitGroup
	objs := make([]Object, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			objs[i], errs[i] = s.Put(context.Background(), bytes.NewReader(data), testMax)
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Put %d: %v", i, errs[i])
		}
		if objs[i].Key != sum(data) {
			t.Fatalf("Put %d: key %s, want %s", i, objs[i].Key, sum(data))
		}
	}
	stored, tmp := storedFiles(t, dir)
	if len(stored) != 1 || len(tmp) != 0 {
		t.Fatalf("files: stored %v, tmp %v; want one stored file", stored, tmp)
	}
}

func TestOpenNotFound(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	obj, err := s.Put(ctx, bytes.NewReader(pdfFixture()), testMax)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{
		"",
		"../../etc/passwd",
		"tmp",
		strings.Repeat("0", 64),
		strings.ToUpper(obj.Key),
		obj.Key[:63],
		obj.Key + "0",
		"../" + obj.Key[3:],
	} {
		rc, err := s.Open(ctx, key)
		if !errors.Is(err, ErrNotFound) {
			if rc != nil {
				rc.Close()
			}
			t.Errorf("Open(%q) error = %v, want ErrNotFound", key, err)
		}
	}
}

func TestSniffHead(t *testing.T) {
	tests := []struct {
		name    string
		head    []byte
		want    string
		allowed bool
	}{
		{"docx", ooxmlFixture(t, "word/document.xml"), TypeDOCX, true},
		{"empty", nil, "", false},
		{"plain zip", zipFixture(t, false, zipEntry{"a.txt", []byte("a")}), "application/zip", false},
		{"html", []byte("<html><script></script></html>"), "text/html; charset=utf-8", false},
		{"truncated zip header", []byte("PK\x03\x04\x14\x00"), "application/zip", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct, ok := Sniff(tt.head)
			if ok != tt.allowed || (tt.want != "" && ct != tt.want) {
				t.Fatalf("Sniff = %q, %v; want %q, %v", ct, ok, tt.want, tt.allowed)
			}
		})
	}
}

func FuzzSniff(f *testing.F) {
	for _, seed := range [][]byte{
		pdfFixture(), pngFixture(f), jpegFixture(f), gifFixture(f), webpFixture(), oleFixture(),
		ooxmlFixture(f, "word/document.xml"), ooxmlFixture(f, "xl/workbook.xml"),
		zipFixture(f, true, zipEntry{"[Content_Types].xml", nil}, zipEntry{"ppt/p.xml", []byte("x")}),
		[]byte("PK\x03\x04\x14\x00\x08\x00\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff\x00\x00\x00\x00\xff\xff\xff\xff"),
		[]byte("<svg></svg>"), nil,
	} {
		f.Add(seed)
	}
	allowed := map[string]bool{
		TypePDF: true, TypePNG: true, TypeJPEG: true, TypeGIF: true, TypeWebP: true,
		TypeDOCX: true, TypeXLSX: true, TypePPTX: true, TypeLegacyOffice: true,
	}
	f.Fuzz(func(t *testing.T, head []byte) {
		ct, ok := Sniff(head)
		if ok != allowed[ct] {
			t.Fatalf("Sniff = %q, %v: allowed flag disagrees with the type", ct, ok)
		}
	})
}

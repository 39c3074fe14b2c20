package inspection

import (
	"fmt"
	"strings"

	qrcode "github.com/skip2/go-qrcode"
)

// QRPNG renders the verify URL of a code as a PNG.
func (s *Service) QRPNG(code string, size int) ([]byte, error) {
	return qrcode.Encode(s.VerifyURL(code), qrcode.Medium, size)
}

// QRSVG renders the verify URL of a code as an SVG of square modules,
// crisp at any size on a phone screen or a printed notice.
func (s *Service) QRSVG(code string) ([]byte, error) {
	q, err := qrcode.New(s.VerifyURL(code), qrcode.Medium)
	if err != nil {
		return nil, err
	}
	bits := q.Bitmap()
	n := len(bits)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges">`, n, n)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, n, n)
	for y, row := range bits {
		for x, on := range row {
			if on {
				fmt.Fprintf(&b, "M%d %dh1v1h-1z", x, y)
			}
		}
	}
	b.WriteString(`"/></svg>`)
	return []byte(b.String()), nil
}

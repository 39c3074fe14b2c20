package export

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"

	"github.com/xuri/excelize/v2"
)

// Column widths are in Excel's unit, roughly one Latin character of the
// default font.
const (
	minColWidth = 8
	maxColWidth = 60
	// colPadding leaves room for the cell margins and the bold header.
	colPadding = 2
)

// WriteXLSX writes one or more tables, a sheet each, with a bold frozen
// header row and column widths fitted to the content. Sheet names come from
// the titles, cleaned for Excel and made unique. Strings are always written
// as text, so a value such as "=1+1" is shown, never evaluated. Times are
// real date cells shown as yyyy-mm-dd hh:mm in China Standard Time.
func WriteXLSX(w io.Writer, tables ...Table) error {
	if len(tables) == 0 {
		return ErrNoTables
	}
	f := excelize.NewFile()
	defer f.Close()

	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	timeFormat := xlsxTimeFormat
	timeStyle, err := f.NewStyle(&excelize.Style{CustomNumFmt: &timeFormat})
	if err != nil {
		return err
	}

	used := make(map[string]bool, len(tables))
	for i, t := range tables {
		name := sheetName(t.Title, i, used)
		if i == 0 {
			// A new workbook already holds one sheet; reuse it rather than
			// leave an empty "Sheet1" in front of the report.
			err = f.SetSheetName(f.GetSheetName(0), name)
		} else {
			_, err = f.NewSheet(name)
		}
		if err != nil {
			return fmt.Errorf("export: sheet %q: %w", name, err)
		}
		if err := writeSheet(f, name, t, bold, timeStyle); err != nil {
			return fmt.Errorf("export: sheet %q: %w", name, err)
		}
	}
	f.SetActiveSheet(0)
	return f.Write(w)
}

func writeSheet(f *excelize.File, name string, t Table, bold, timeStyle int) error {
	widths, err := columnWidths(t)
	if err != nil {
		return err
	}
	// The stream writer keeps memory flat for long lists and only ever emits
	// a formula when asked to explicitly, which is the guarantee we want for
	// user-supplied text.
	sw, err := f.NewStreamWriter(name)
	if err != nil {
		return err
	}
	for c, width := range widths {
		if err := sw.SetColWidth(c+1, c+1, width); err != nil {
			return err
		}
	}

	row := 1
	if len(t.Headers) > 0 {
		err := sw.SetPanes(&excelize.Panes{
			Freeze:      true,
			YSplit:      1,
			TopLeftCell: "A2",
			ActivePane:  "bottomLeft",
			Selection:   []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}},
		})
		if err != nil {
			return err
		}
		cells := make([]any, len(t.Headers))
		for c, h := range t.Headers {
			cells[c] = excelize.Cell{StyleID: bold, Value: h}
		}
		if err := sw.SetRow("A1", cells); err != nil {
			return err
		}
		row++
	}

	var cells []any
	for r, values := range t.Rows {
		cells = cells[:0]
		for c, v := range values {
			x, err := xlsxValue(v, timeStyle)
			if err != nil {
				return cellError(r, c, err)
			}
			cells = append(cells, x)
		}
		ref, err := excelize.CoordinatesToCellName(1, row)
		if err != nil {
			return err
		}
		if err := sw.SetRow(ref, cells); err != nil {
			return err
		}
		row++
	}
	return sw.Flush()
}

// xlsxValue maps a cell to what the stream writer should store: numbers stay
// numbers so Excel can sum them, times become date serials with a display
// format, everything else is text.
func xlsxValue(v any, timeStyle int) (any, error) {
	v, err := normalize(v)
	if err != nil {
		return nil, err
	}
	switch v := v.(type) {
	case nil, string, int64, uint64, float64:
		return v, nil
	case time.Time:
		// Excel's calendar starts in 1900; earlier moments cannot be serials.
		if v.Year() < 1900 {
			return display(v), nil
		}
		// excelize stores the wall clock of v's zone, which normalize set to
		// Shanghai.
		return excelize.Cell{StyleID: timeStyle, Value: v}, nil
	default:
		return display(v), nil
	}
}

func columnWidths(t Table) ([]float64, error) {
	chars := make([]int, len(t.Headers))
	for c, h := range t.Headers {
		chars[c] = textWidth(h)
	}
	for r, row := range t.Rows {
		for len(chars) < len(row) {
			chars = append(chars, 0)
		}
		for c, v := range row {
			v, err := normalize(v)
			if err != nil {
				return nil, cellError(r, c, err)
			}
			chars[c] = max(chars[c], textWidth(display(v)))
		}
	}
	widths := make([]float64, len(chars))
	for c, n := range chars {
		widths[c] = float64(min(max(n+colPadding, minColWidth), maxColWidth))
	}
	return widths, nil
}

// textWidth estimates how many Latin-character widths s needs in Excel.
// CJK characters are drawn about twice as wide, and a multi-line cell is as
// wide as its longest line.
func textWidth(s string) int {
	widest := 0
	for line := range strings.SplitSeq(s, "\n") {
		n := 0
		for _, r := range line {
			if isWide(r) {
				n += 2
			} else {
				n++
			}
		}
		widest = max(widest, n)
	}
	return widest
}

func isWide(r rune) bool {
	switch {
	case r >= 0x3000 && r <= 0x303F: // CJK punctuation, e.g. 、。「」
		return true
	case r >= 0xFF01 && r <= 0xFF60, r >= 0xFFE0 && r <= 0xFFE6: // full-width forms, e.g. （）：，
		return true
	}
	return unicode.In(r, unicode.Han, unicode.Hangul, unicode.Hiragana, unicode.Katakana)
}

// sheetName turns a title into a name Excel accepts: none of []:*?/\, no
// leading or trailing apostrophe, at most 31 UTF-16 units, and unique
// ignoring case, which is how Excel compares sheet names.
func sheetName(title string, index int, used map[string]bool) string {
	base := strings.Map(func(r rune) rune {
		if strings.ContainsRune(`[]:*?/\`, r) || unicode.IsControl(r) {
			return -1
		}
		return r
	}, title)
	base = trimSheetName(truncateUTF16(trimSheetName(base), excelize.MaxSheetNameLength))
	if base == "" {
		base = fmt.Sprintf("Sheet%d", index+1)
	}
	name := base
	for n := 2; used[strings.ToLower(name)]; n++ {
		suffix := fmt.Sprintf(" (%d)", n)
		name = trimSheetName(truncateUTF16(base, excelize.MaxSheetNameLength-len(suffix))) + suffix
	}
	used[strings.ToLower(name)] = true
	return name
}

func trimSheetName(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return r == '\'' || unicode.IsSpace(r) })
}

// truncateUTF16 cuts s to at most limit UTF-16 units, the measure Excel uses
// for sheet names, without splitting a character.
func truncateUTF16(s string, limit int) string {
	units := 0
	for i, r := range s {
		units += utf16.RuneLen(r)
		if units > limit {
			return s[:i]
		}
	}
	return s
}

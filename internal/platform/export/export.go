// Package export writes tables as CSV for Excel and as XLSX, so every list
// and report the office downloads opens correctly in Excel: Chinese text
// intact, times in China Standard Time, and no cell that Excel would run as a
// formula.
package export

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Shanghai must load on minimal hosts without zoneinfo
)

// Content types, for callers setting Content-Type.
const (
	CSVContentType  = "text/csv; charset=utf-8"
	XLSXContentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
)

// File extensions, with the dot, for callers building Content-Disposition.
const (
	CSVExt  = ".csv"
	XLSXExt = ".xlsx"
)

// Table is a titled grid: one header row and rows of cells.
type Table struct {
	// Title is the XLSX sheet name. Characters Excel forbids in sheet names
	// ([]:*?/\) are removed and it is cut to Excel's 31-character limit.
	Title string
	// Headers are shown in the first row, e.g. "机关", "检查次数".
	Headers []string
	// Rows hold cell values: string, int, int64, float64, bool, time.Time,
	// a pointer to one of those (nil is an empty cell), or fmt.Stringer.
	// Other integer widths and float32 are accepted too.
	Rows [][]any
}

// TimeLayout is how times are shown: minutes are the finest resolution anyone
// reading an oversight report cares about.
const TimeLayout = "2006-01-02 15:04"

// xlsxTimeFormat is TimeLayout in Excel's number-format language.
const xlsxTimeFormat = "yyyy-mm-dd hh:mm"

// shanghai is where readers are, whatever zone the caller's times carry.
var shanghai = loadShanghai()

func loadShanghai() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	// Unreachable with time/tzdata embedded; China has had no DST since 1991,
	// so a fixed offset is an exact stand-in for any date an export shows.
	return time.FixedZone("CST", 8*60*60)
}

// utf8BOM makes Excel read the file as UTF-8; without it Excel assumes the
// system code page (GBK on Chinese Windows) and garbles every header.
const utf8BOM = "\xEF\xBB\xBF"

// WriteCSV writes t as UTF-8 CSV with a BOM so Excel detects the encoding.
// Records end in CRLF and every record has as many fields as the widest row,
// as RFC 4180 expects. Strings that Excel would evaluate as a formula get a
// leading apostrophe.
func WriteCSV(w io.Writer, t Table) error {
	// Check every cell before the first byte goes out, so a bad value fails
	// the request cleanly instead of leaving a truncated download.
	if err := validate(t); err != nil {
		return err
	}
	width := len(t.Headers)
	for _, row := range t.Rows {
		width = max(width, len(row))
	}
	if _, err := io.WriteString(w, utf8BOM); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true

	record := make([]string, width)
	for i, h := range t.Headers {
		record[i] = neutralize(h)
	}
	if err := cw.Write(record); err != nil {
		return err
	}
	for r, row := range t.Rows {
		clear(record)
		for c, v := range row {
			s, err := csvText(v)
			if err != nil {
				return cellError(r, c, err)
			}
			record[c] = s
		}
		if err := cw.Write(record); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func csvText(v any) (string, error) {
	v, err := normalize(v)
	if err != nil {
		return "", err
	}
	switch v := v.(type) {
	case nil:
		return "", nil
	case string:
		return neutralize(v), nil
	default:
		return display(v), nil
	}
}

// display renders a normalized non-string value the way a reader expects to
// see it. It is also the basis for estimating XLSX column widths.
func display(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	case uint64:
		return strconv.FormatUint(v, 10)
	case float64:
		return formatFloat(v)
	case bool:
		if v {
			return "是"
		}
		return "否"
	case time.Time:
		return v.Format(TimeLayout)
	}
	return fmt.Sprint(v)
}

// formatFloat keeps at most four decimals: ratios and averages in reports
// are meaningless beyond that, and binary noise such as 0.30000000000000004
// would only confuse readers.
func formatFloat(f float64) string {
	s := strconv.FormatFloat(f, 'f', 4, 64)
	s = strings.TrimRight(s, "0")
	s = strings.TrimSuffix(s, ".")
	if s == "-0" {
		return "0"
	}
	return s
}

// formulaTriggers are the leading characters that make Excel (and other
// spreadsheet programs) treat a CSV field as a formula; tab and CR are on the
// list because some programs strip them and then see what follows.
const formulaTriggers = "=+-@\t\r"

func looksLikeFormula(s string) bool {
	return s != "" && strings.IndexByte(formulaTriggers, s[0]) >= 0
}

// neutralize stops user-supplied text such as a case title "=HYPERLINK(...)"
// from running as a formula when the CSV is opened. The apostrophe is Excel's
// own marker for "this is text".
func neutralize(s string) string {
	if looksLikeFormula(s) {
		return "'" + s
	}
	return s
}

// normalize reduces a cell value to nil, string, int64, uint64, float64,
// bool or time.Time (in Shanghai). NaN and infinities become nil: Excel has
// no representation for them and a CSV "+Inf" would be read as a formula.
// The zero time becomes nil because it always means "not set", never a real
// moment anyone wants to see in a report.
func normalize(v any) (any, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		return v, nil
	case *string:
		if v == nil {
			return nil, nil
		}
		return *v, nil
	case int:
		return int64(v), nil
	case *int:
		if v == nil {
			return nil, nil
		}
		return int64(*v), nil
	case int8:
		return int64(v), nil
	case int16:
		return int64(v), nil
	case int32:
		return int64(v), nil
	case int64:
		return v, nil
	case *int64:
		if v == nil {
			return nil, nil
		}
		return *v, nil
	case uint:
		return uint64(v), nil
	case uint8:
		return uint64(v), nil
	case uint16:
		return uint64(v), nil
	case uint32:
		return uint64(v), nil
	case uint64:
		return v, nil
	case float32:
		return finite(float64(v)), nil
	case float64:
		return finite(v), nil
	case *float64:
		if v == nil {
			return nil, nil
		}
		return finite(*v), nil
	case bool:
		return v, nil
	case *bool:
		if v == nil {
			return nil, nil
		}
		return *v, nil
	case time.Time:
		return inShanghai(v), nil
	case *time.Time:
		if v == nil {
			return nil, nil
		}
		return inShanghai(*v), nil
	case fmt.Stringer:
		// A nil pointer with a pointer-receiver String method would panic or
		// print "<nil>"; an absent value should just be an empty cell.
		if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && rv.IsNil() {
			return nil, nil
		}
		return v.String(), nil
	}
	return nil, fmt.Errorf("unsupported cell type %T", v)
}

func finite(f float64) any {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return f
}

func inShanghai(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.In(shanghai)
}

// ErrNoTables is returned by WriteXLSX when called without tables: a
// workbook needs at least one sheet.
var ErrNoTables = errors.New("export: no tables to write")

func validate(t Table) error {
	for r, row := range t.Rows {
		for c, v := range row {
			if _, err := normalize(v); err != nil {
				return cellError(r, c, err)
			}
		}
	}
	return nil
}

func cellError(row, col int, err error) error {
	// Numbered as a reader would see them in Excel: the header is row 1.
	return fmt.Errorf("export: row %d column %d: %w", row+2, col+1, err)
}

package export

import (
	"bytes"
	"encoding/csv"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

type level int

func (l level) String() string { return [...]string{"低", "中", "高"}[l] }

type ptrStringer struct{ name string }

func (p *ptrStringer) String() string { return p.name }

// 2024-03-05 06:30 UTC is 14:30 in Shanghai.
var inspected = time.Date(2024, 3, 5, 6, 30, 0, 0, time.UTC)

func sampleTable() Table {
	var nilInt *int
	var nilTime *time.Time
	var nilStringer *ptrStringer
	count := 7
	return Table{
		Title:   "检查统计",
		Headers: []string{"机关", "检查次数", "平均分", "已整改", "检查时间", "备注"},
		Rows: [][]any{
			{"新津区人民法院", 12, 87.5, true, inspected, `说明, 含"引号"` + "\n第二行"},
			{"=HYPERLINK(\"http://evil\")", int64(3), 0.1 + 0.2, false, &inspected, "+1"},
			{"-5", nilInt, (*float64)(nil), (*bool)(nil), nilTime, "@SUM(A1)"},
			{"\tcmd", &count, 1.0 / 3, level(2), time.Time{}, nilStringer},
		},
	}
}

func readCSV(t *testing.T, b []byte) [][]string {
	t.Helper()
	body, ok := bytes.CutPrefix(b, []byte{0xEF, 0xBB, 0xBF})
	if !ok {
		t.Fatalf("CSV does not start with the UTF-8 BOM: % x", b[:min(len(b), 8)])
	}
	records, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("CSV does not parse: %v", err)
	}
	return records
}

func TestWriteCSV(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteCSV(&buf, sampleTable()); err != nil {
		t.Fatal(err)
	}
	records := readCSV(t, buf.Bytes())

	want := [][]string{
		{"机关", "检查次数", "平均分", "已整改", "检查时间", "备注"},
		{"新津区人民法院", "12", "87.5", "是", "2024-03-05 14:30", "说明, 含\"引号\"\n第二行"},
		{"'=HYPERLINK(\"http://evil\")", "3", "0.3", "否", "2024-03-05 14:30", "'+1"},
		{"'-5", "", "", "", "", "'@SUM(A1)"},
		{"'\tcmd", "7", "0.3333", "高", "", ""},
	}
	if len(records) != len(want) {
		t.Fatalf("got %d records, want %d: %q", len(records), len(want), records)
	}
	for i := range want {
		if strings.Join(records[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("record %d:\n got %q\nwant %q", i, records[i], want[i])
		}
	}

	raw := buf.String()
	if !strings.HasSuffix(raw, "\r\n") || strings.Count(raw, "\r\n") < len(want) {
		t.Errorf("records are not CRLF-terminated: %q", raw)
	}
}

func TestWriteCSVPadsShortRows(t *testing.T) {
	var buf bytes.Buffer
	err := WriteCSV(&buf, Table{Headers: []string{"a", "b", "c"}, Rows: [][]any{{"x"}}})
	if err != nil {
		t.Fatal(err)
	}
	records := readCSV(t, buf.Bytes())
	if len(records[1]) != 3 {
		t.Errorf("short row has %d fields, want 3", len(records[1]))
	}
}

func TestWriteCSVRejectsUnknownTypeBeforeWriting(t *testing.T) {
	var buf bytes.Buffer
	err := WriteCSV(&buf, Table{Headers: []string{"a"}, Rows: [][]any{{"ok"}, {struct{}{}}}})
	if err == nil || !strings.Contains(err.Error(), "row 3 column 1") {
		t.Fatalf("err = %v, want an error naming row 3 column 1", err)
	}
	if buf.Len() != 0 {
		t.Errorf("wrote %d bytes before failing", buf.Len())
	}
}

func TestWriteXLSX(t *testing.T) {
	second := Table{
		Title:   "名单[2024]: 新津/双流?",
		Headers: []string{"姓名", "得分"},
		Rows:    [][]any{{"张三", 95}},
	}
	var buf bytes.Buffer
	if err := WriteXLSX(&buf, sampleTable(), second); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	sheets := f.GetSheetList()
	if strings.Join(sheets, "|") != "检查统计|名单2024 新津双流" {
		t.Fatalf("sheets = %q", sheets)
	}
	const s1, s2 = "检查统计", "名单2024 新津双流"

	cell := func(sheet, ref string) string {
		t.Helper()
		v, err := f.GetCellValue(sheet, ref)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cellType := func(sheet, ref string) excelize.CellType {
		t.Helper()
		ct, err := f.GetCellType(sheet, ref)
		if err != nil {
			t.Fatal(err)
		}
		return ct
	}

	rows, err := f.GetRows(s1)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rows[0], "|"); got != "机关|检查次数|平均分|已整改|检查时间|备注" {
		t.Errorf("header row = %q", got)
	}
	if got := cell(s1, "A2"); got != "新津区人民法院" {
		t.Errorf("A2 = %q", got)
	}
	if got := cell(s1, "F2"); got != `说明, 含"引号"`+"\n第二行" {
		t.Errorf("F2 = %q", got)
	}
	if got := cell(s2, "A2"); got != "张三" {
		t.Errorf("second sheet A2 = %q", got)
	}

	isNumber := func(sheet, ref string) bool {
		t.Helper()
		// A cell without a type attribute is a number in OOXML, and excelize
		// reports it as Unset; the raw value must then parse as one.
		if ct := cellType(sheet, ref); ct != excelize.CellTypeNumber && ct != excelize.CellTypeUnset {
			return false
		}
		raw, err := f.GetCellValue(sheet, ref, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		_, err = strconv.ParseFloat(raw, 64)
		return err == nil
	}
	for _, c := range []struct{ sheet, ref, want string }{
		{s1, "B2", "12"}, {s1, "C2", "87.5"}, {s1, "B3", "3"}, {s1, "B5", "7"}, {s2, "B2", "95"},
	} {
		if !isNumber(c.sheet, c.ref) {
			t.Errorf("%s!%s is not a number cell", c.sheet, c.ref)
		}
		if got := cell(c.sheet, c.ref); got != c.want {
			t.Errorf("%s!%s = %q, want %q", c.sheet, c.ref, got, c.want)
		}
	}

	if got := cell(s1, "D2"); got != "是" {
		t.Errorf("bool D2 = %q, want 是", got)
	}
	for _, ref := range []string{"E2", "E3"} {
		if !isNumber(s1, ref) {
			t.Errorf("time %s is not a date serial", ref)
		}
		if got := cell(s1, ref); got != "2024-03-05 14:30" {
			t.Errorf("time %s = %q, want Shanghai time", ref, got)
		}
	}
	if got := cell(s1, "E4"); got != "" {
		t.Errorf("nil time E4 = %q, want empty", got)
	}
	if got := cell(s1, "B4"); got != "" {
		t.Errorf("nil int B4 = %q, want empty", got)
	}

	for _, ref := range []string{"A3", "F3", "A4", "F4", "A5"} {
		formula, err := f.GetCellFormula(s1, ref)
		if err != nil {
			t.Fatal(err)
		}
		if formula != "" {
			t.Errorf("%s has formula %q", ref, formula)
		}
		if ct := cellType(s1, ref); ct != excelize.CellTypeInlineString && ct != excelize.CellTypeSharedString {
			t.Errorf("%s type = %v, want a string", ref, ct)
		}
	}
	if got := cell(s1, "A3"); got != `=HYPERLINK("http://evil")` {
		t.Errorf("A3 = %q, want the text unchanged", got)
	}

	style, err := f.GetCellStyle(s1, "A1")
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.GetStyle(style)
	if err != nil {
		t.Fatal(err)
	}
	if st.Font == nil || !st.Font.Bold {
		t.Error("header is not bold")
	}
	panes, err := f.GetPanes(s1)
	if err != nil {
		t.Fatal(err)
	}
	if !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("panes = %+v, want the first row frozen", panes)
	}

	// 新津区人民法院 is 7 CJK characters, so it needs about 14 widths.
	if w, _ := f.GetColWidth(s1, "A"); w < 14 || w > maxColWidth {
		t.Errorf("column A width = %v", w)
	}
	if w, _ := f.GetColWidth(s1, "E"); w < float64(len(TimeLayout)) {
		t.Errorf("time column width = %v, too narrow for %q", w, TimeLayout)
	}
}

func TestWriteXLSXNoTables(t *testing.T) {
	if err := WriteXLSX(&bytes.Buffer{}); !errors.Is(err, ErrNoTables) {
		t.Errorf("err = %v, want ErrNoTables", err)
	}
}

func TestSheetName(t *testing.T) {
	used := map[string]bool{}
	long := strings.Repeat("长", 40)
	for _, c := range []struct{ title, want string }{
		{"检查统计", "检查统计"},
		{"检查统计", "检查统计 (2)"},
		{"a[b]c:d*e?f/g\\h", "abcdefgh"},
		{"'quoted'", "quoted"},
		{"", "Sheet5"},
		{"sheet5", "sheet5 (2)"},
		{long, strings.Repeat("长", 31)},
		{long, strings.Repeat("长", 27) + " (2)"},
	} {
		got := sheetName(c.title, len(used), used)
		if got != c.want {
			t.Errorf("sheetName(%q) = %q, want %q", c.title, got, c.want)
		}
	}
}

func TestTextWidth(t *testing.T) {
	for _, c := range []struct {
		s    string
		want int
	}{
		{"abc", 3},
		{"机关", 4},
		{"A（1）", 6},
		{"short\n更长的一行", 10},
	} {
		if got := textWidth(c.s); got != c.want {
			t.Errorf("textWidth(%q) = %d, want %d", c.s, got, c.want)
		}
	}
}

package app

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

func (w *world) download(user, path, accept string) *httptest.ResponseRecorder {
	w.t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Authorization", "Bearer "+w.tokens[user])
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	rec := httptest.NewRecorder()
	w.h.ServeHTTP(rec, req)
	return rec
}

func TestOversightDownloadsOpenInExcel(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	rec := w.download("oversight1", "/api/v1/oversight/alerts", "text/csv")
	body := rec.Body.Bytes()
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/csv") || !bytes.HasPrefix(body, []byte("\xEF\xBB\xBF")) {
		t.Fatalf("alerts CSV: %d %v % x", rec.Code, rec.Header(), body[:min(6, len(body))])
	}
	rows, err := csv.NewReader(bytes.NewReader(body[3:])).ReadAll()
	if err != nil || len(rows) < 2 || rows[0][0] != "编号" || rows[0][1] != "规则" || !strings.Contains(string(body), "消防救援大队") {
		t.Fatalf("alerts CSV content: %v %q", err, rows)
	}
	rec = w.download("oversight1", "/api/v1/oversight/reports/inspections?from=2020-01-01T00:00:00Z&to=2100-01-01T00:00:00Z&format=xlsx", "")
	if rec.Code != 200 || !strings.Contains(rec.Header().Get("Content-Disposition"), ".xlsx") {
		t.Fatalf("report XLSX: %d %v", rec.Code, rec.Header())
	}
	f, err := excelize.OpenReader(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	sheet := f.GetSheetName(0)
	header, _ := f.GetCellValue(sheet, "A1")
	second, _ := f.GetCellValue(sheet, "B1")
	name, _ := f.GetCellValue(sheet, "A2")
	if sheet != "检查情况" || header != "分组" || second != "检查次数" || !strings.Contains(name, "新津区") {
		t.Fatalf("workbook: sheet %q, header %q %q, first row %q", sheet, header, second, name)
	}
	rec = w.download("oversight1", "/api/v1/oversight/reports/requests?from=2020-01-01T00:00:00Z&to=2100-01-01T00:00:00Z", "text/csv")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "响应率") {
		t.Fatalf("requests CSV: %d %s", rec.Code, rec.Body.String()[:min(200, rec.Body.Len())])
	}
	// Agency staff cannot download oversight figures.
	if rec := w.download("lead.court", "/api/v1/oversight/alerts", "text/csv"); rec.Code != 404 && rec.Code != 403 {
		t.Fatalf("lead downloads alerts: %d", rec.Code)
	}
}

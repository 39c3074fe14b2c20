package app

import (
	"encoding/json"
	"mime/multipart"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

func TestRequestsOverHTTP(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	body := `{"category":"litigation_service","title":"网上立案咨询","description":"买卖合同纠纷如何网上立案？","contact_phone":"028-82512345"}`

	code, first, h := w.call("ent1", "POST", "/api/v1/requests", body, "Idempotency-Key", "retry-me-0001")
	if code != 201 || h.Get("ETag") != `"1"` || !strings.HasPrefix(h.Get("Location"), "/api/v1/requests/") {
		t.Fatalf("create: %d %v %s", code, h, first)
	}
	var r struct {
		ID       int64    `json:"id"`
		TicketNo string   `json:"ticket_no"`
		Status   string   `json:"status"`
		Allowed  []string `json:"allowed_actions"`
	}
	_ = json.Unmarshal([]byte(first), &r)
	code, again, _ := w.call("ent1", "POST", "/api/v1/requests", body, "Idempotency-Key", "retry-me-0001")
	var r2 struct {
		ID int64 `json:"id"`
	}
	_ = json.Unmarshal([]byte(again), &r2)
	if code != 201 || r2.ID != r.ID {
		t.Fatalf("retry: %d id %d vs %d", code, r2.ID, r.ID)
	}
	if code, b, _ := w.call("ent1", "POST", "/api/v1/requests", strings.Replace(body, "网上", "线下", 1), "Idempotency-Key", "retry-me-0001"); code != 422 {
		t.Fatalf("same key, other body: %d %s", code, b)
	}
	if code, b, _ := w.call("ent1", "POST", "/api/v1/requests", strings.Replace(body, "028-82512345", "12345", 1)); code != 422 || !strings.Contains(b, "/contact_phone") {
		t.Fatalf("bad phone: %d %s", code, b)
	}
	if code, b, _ := w.call("ent1", "POST", "/api/v1/requests", `{"category":"x","title":"","description":"d"}`); code != 400 || !strings.Contains(b, "/title") {
		t.Fatalf("empty title: %d %s", code, b)
	}

	path := "/api/v1/requests/" + strconv.FormatInt(r.ID, 10)
	// Nobody is assigned yet: the enterprise may withdraw; a stale or missing If-Match is refused.
	if code, b, _ := w.call("ent1", "POST", path+"/actions", `{"action":"withdraw"}`); code != 428 {
		t.Fatalf("no If-Match: %d %s", code, b)
	}
	if code, b, _ := w.call("ent1", "POST", path+"/actions", `{"action":"withdraw"}`, "If-Match", `"7"`); code != 412 {
		t.Fatalf("stale If-Match: %d %s", code, b)
	}
	if code, b, _ := w.call("ent1", "POST", path+"/actions", `{"action":"confirm"}`, "If-Match", `"1"`); code != 409 ||
		!strings.Contains(b, `"current_status":"submitted"`) || !strings.Contains(b, `"allowed_actions":["withdraw"]`) {
		t.Fatalf("illegal transition: %d %s", code, b)
	}

	// Internal notes never reach the enterprise: detail, timeline, list.
	police := w.ids["request:ent2"]
	ppath := "/api/v1/requests/" + strconv.FormatInt(police, 10)
	if code, b, _ := w.call("police1", "POST", ppath+"/messages", `{"body":"内部：嫌疑人有前科","internal":true}`); code != 201 {
		t.Fatalf("internal note: %d %s", code, b)
	}
	for _, p := range []string{ppath, ppath + "/timeline", "/api/v1/requests"} {
		_, b, _ := w.call("ent2", "GET", p, "")
		if strings.Contains(b, "嫌疑人有前科") {
			t.Errorf("%s shows the internal note to the enterprise", p)
		}
		if _, b, _ := w.call("police1", "GET", ppath+"/timeline", ""); !strings.Contains(b, "嫌疑人有前科") {
			t.Errorf("the agency must see its note")
		}
	}

	// Files: sniffed type, refused executables, download with the right headers.
	upload := func(name, content string) (int, string) {
		var buf strings.Builder
		mw := multipart.NewWriter(&buf)
		fw, _ := mw.CreateFormFile("file", name)
		_, _ = fw.Write([]byte(content))
		_ = mw.Close()
		return w.callRaw("ent2", "POST", ppath+"/attachments", buf.String(), mw.FormDataContentType())
	}
	if code, b := upload("报案材料.pdf", "%PDF-1.7\n%%EOF\n"); code != 201 || !strings.Contains(b, `"content_type":"application/pdf"`) {
		t.Fatalf("pdf upload: %d %s", code, b)
	}
	if code, b := upload("photo.jpg", "MZ\x90\x00\x03 not a photo"); code != 422 {
		t.Fatalf("executable named .jpg: %d %s", code, b)
	}
	req := httptest.NewRequest("GET", ppath+"/attachments/"+strconv.FormatInt(w.ids["attachment:ent2"], 10), nil)
	req.Header.Set("Authorization", "Bearer "+w.tokens["ent2"])
	rec := httptest.NewRecorder()
	w.h.ServeHTTP(rec, req)
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/pdf" ||
		!strings.Contains(rec.Header().Get("Content-Disposition"), "attachment") || !strings.HasPrefix(rec.Body.String(), "%PDF") {
		t.Fatalf("download: %d %v", rec.Code, rec.Header())
	}
}

func (w *world) callRaw(user, method, path, body, contentType string) (int, string) {
	w.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+w.tokens[user])
	rec := httptest.NewRecorder()
	w.h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

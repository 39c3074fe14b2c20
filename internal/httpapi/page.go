package httpapi

import (
	"encoding/base64"
	"strconv"

	"greenchannel/internal/platform/fault"
)

// Cursors are opaque to clients: base64 of the last row's key, so the
// encoding can change without breaking anyone who treats it as a token.

func decodeIDCursor(c *string) (int64, error) {
	if c == nil || *c == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(*c)
	if err == nil {
		if id, err := strconv.ParseInt(string(b), 10, 64); err == nil && id >= 0 {
			return id, nil
		}
	}
	return 0, &fault.Error{Kind: fault.Invalid, Msg: "cursor is not one this API gave out",
		Fields: []fault.Field{{Name: "cursor", Message: "use the next_cursor of the previous page"}}}
}

func encodeIDCursor(more bool, lastID int64) *string {
	if !more {
		return nil
	}
	s := base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(lastID, 10)))
	return &s
}

func limitOf(l *int) int {
	if l == nil {
		return 50
	}
	return *l
}

package casework

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"greenchannel/internal/identity"
	"greenchannel/internal/platform/fault"
	"greenchannel/internal/platform/pg"
	"greenchannel/internal/platform/storage"
)

// Attach stores a file on a request. The bytes go to the file store first
// (content-addressed, so a failed transaction leaves at worst an unused
// file, never a row without its file); the row and the timeline entry are
// then written in one transaction that re-checks the per-request limit.
func (s *Service) Attach(ctx context.Context, a identity.Actor, id int64, filename string, body io.Reader) (Attachment, error) {
	r, err := s.Get(ctx, a, id)
	if err != nil {
		return Attachment{}, err
	}
	if err := s.mayAttach(a, &r); err != nil {
		return Attachment{}, err
	}
	obj, err := s.files.Put(ctx, body, s.limits.MaxAttachmentSize)
	switch {
	case errors.Is(err, storage.ErrTooLarge):
		return Attachment{}, fault.InvalidField("file", "文件不能超过20MB / files are limited to 20 MB")
	case errors.Is(err, storage.ErrTypeNotAllowed):
		return Attachment{}, fault.InvalidField("file", "只能上传 PDF、图片或 Office 文档 / only PDF, images and Office documents are accepted")
	case errors.Is(err, storage.ErrEmpty):
		return Attachment{}, fault.InvalidField("file", "文件是空的 / the file is empty")
	case err != nil:
		return Attachment{}, err
	}
	att := Attachment{RequestID: id, UploaderID: a.UserID, Filename: cleanFilename(filename),
		ContentType: obj.ContentType, Size: obj.Size, SHA256: obj.SHA256, StorageKey: obj.Key}
	err = pg.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		locked, err := loadRequest(ctx, tx, id, true) // serialises concurrent uploads to one request
		if err != nil {
			return err
		}
		if err := s.mayAttach(a, locked); err != nil {
			return err
		}
		n, err := tx.NewSelect().Model((*Attachment)(nil)).Where("request_id = ?", id).Count(ctx)
		if err != nil {
			return err
		}
		if int(n) >= s.limits.MaxAttachments {
			return fault.InvalidField("file", "每个诉求最多10个附件 / at most 10 files per request")
		}
		att.CreatedAt = s.clock.Now()
		if _, err := tx.NewInsert().Model(&att).ExcludeColumn("id").Returning("id").Exec(ctx); err != nil {
			return err
		}
		return addEvent(ctx, tx, id, att.CreatedAt, &a.UserID, "attachment", false, map[string]any{
			"attachment_id": att.ID, "filename": att.Filename, "size": att.Size, "content_type": att.ContentType})
	})
	return att, err
}

func (s *Service) mayAttach(a identity.Actor, r *Request) error {
	if !r.Status.Open() {
		return notNowMessage(r)
	}
	if a.Role == identity.RoleEnterprise || identity.Can(a, identity.Work, r.Resource()) {
		return nil
	}
	return fault.New(fault.Forbidden, "只有企业和承办人可以上传材料 / only the enterprise and the assigned officer add files")
}

// Attachments lists a request's files.
func (s *Service) Attachments(ctx context.Context, a identity.Actor, id int64) ([]Attachment, error) {
	if _, err := s.Get(ctx, a, id); err != nil {
		return nil, err
	}
	var out []Attachment
	err := s.db.NewSelect().Model(&out).Where("request_id = ?", id).OrderExpr("id").Scan(ctx)
	return out, err
}

// OpenAttachment returns a file of a request the actor may see.
func (s *Service) OpenAttachment(ctx context.Context, a identity.Actor, id, attachmentID int64) (Attachment, io.ReadSeekCloser, error) {
	if _, err := s.Get(ctx, a, id); err != nil {
		return Attachment{}, nil, err
	}
	var att Attachment
	if err := s.db.NewSelect().Model(&att).Where("id = ? AND request_id = ?", attachmentID, id).Scan(ctx); err != nil {
		return Attachment{}, nil, fault.New(fault.NotFound, "attachment not found")
	}
	f, err := s.files.Open(ctx, att.StorageKey)
	if err != nil {
		return Attachment{}, nil, err
	}
	return att, f, nil
}

// cleanFilename keeps the base name, printable and of sane length, for the
// Content-Disposition of downloads.
func cleanFilename(name string) string {
	name = filepath.Base(strings.ReplaceAll(name, `\`, "/"))
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' {
			return -1
		}
		return r
	}, name)
	for utf8.RuneCountInString(name) > 120 {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	if name == "" || name == "." || name == "/" {
		return "file"
	}
	return name
}

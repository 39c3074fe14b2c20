package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"greenchannel/internal/identity"
	"greenchannel/internal/platform/fault"
	"greenchannel/internal/platform/jobs"
)

// TaskWebhook delivers one webhook call; asynq retries it with back-off.
const TaskWebhook = "notify:webhook"

// WebhookPayload names a delivery.
type WebhookPayload struct {
	DeliveryID int64 `json:"delivery_id"`
}

// Webhook queues the event for every active webhook of the agency, in the
// caller's transaction.
func Webhook(ctx context.Context, tx bun.IDB, at time.Time, agencyID int64, event string, data any) error {
	body, err := json.Marshal(map[string]any{"event": event, "at": at, "data": data})
	if err != nil {
		return err
	}
	var ids []int64
	if err := tx.NewRaw(`INSERT INTO webhook_deliveries (webhook_id, event, body, created_at)
		SELECT id, ?, ?, ? FROM agency_webhooks WHERE agency_id = ? AND active RETURNING id`,
		event, string(body), at, agencyID).Scan(ctx, &ids); err != nil {
		return err
	}
	tasks := make([]jobs.Task, len(ids))
	for i, id := range ids {
		tasks[i] = jobs.Task{Type: TaskWebhook, Key: "webhook:" + strconv.FormatInt(id, 10), Queue: jobs.QueueDefault,
			Payload: WebhookPayload{DeliveryID: id}, MaxRetry: 8, Timeout: 15 * time.Second}
	}
	return jobs.EnqueueMany(ctx, tx, tasks)
}

// Sign returns the signature header value for a body sent at ts: the
// receiver recomputes HMAC-SHA256(secret, ts + "." + body) and also checks
// that ts is recent, which stops replays.
func Sign(secret string, ts int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "%d.", ts)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Deliverer posts webhook deliveries.
type Deliverer struct {
	DB     bun.IDB
	Client *http.Client
	Now    func() time.Time
}

// Deliver posts one delivery and logs the attempt. A delivered one is not
// sent again; a failure returns an error so asynq retries with back-off.
func (d Deliverer) Deliver(ctx context.Context, p WebhookPayload) error {
	var row struct {
		URL         string     `bun:"url"`
		Secret      string     `bun:"secret"`
		Body        string     `bun:"body"`
		Event       string     `bun:"event"`
		DeliveredAt *time.Time `bun:"delivered_at"`
	}
	err := d.DB.NewRaw(`SELECT h.url, h.secret, w.body, w.event, w.delivered_at FROM webhook_deliveries w
		JOIN agency_webhooks h ON h.id = w.webhook_id WHERE w.id = ?`, p.DeliveryID).Scan(ctx, &row)
	if err != nil {
		return fmt.Errorf("%w: delivery %d: %w", jobs.ErrPermanent, p.DeliveryID, err)
	}
	if row.DeliveredAt != nil {
		return nil
	}
	now := d.Now()
	ts := now.Unix()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, row.URL, bytes.NewReader([]byte(row.Body)))
	if err != nil {
		return fmt.Errorf("%w: %w", jobs.ErrPermanent, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GC-Event", row.Event)
	req.Header.Set("X-GC-Timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("X-GC-Signature", Sign(row.Secret, ts, []byte(row.Body)))
	resp, sendErr := d.Client.Do(req)
	status := 0
	if sendErr == nil {
		status = resp.StatusCode
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
		if status >= 300 {
			sendErr = fmt.Errorf("receiver answered %d", status)
		}
	}
	errText := ""
	if sendErr != nil {
		errText = sendErr.Error()
	}
	var delivered *time.Time
	if sendErr == nil {
		delivered = &now
	}
	if _, err := d.DB.NewRaw(`UPDATE webhook_deliveries SET attempts = attempts + 1, status_code = NULLIF(?, 0),
		last_error = NULLIF(?, ''), delivered_at = ? WHERE id = ?`, status, errText, delivered, p.DeliveryID).Exec(ctx); err != nil {
		return err
	}
	return sendErr
}

// Hook is an agency's registered webhook.
type Hook struct {
	bun.BaseModel `bun:"table:agency_webhooks"`
	ID            int64     `bun:"id,pk,autoincrement"`
	AgencyID      int64     `bun:"agency_id"`
	URL           string    `bun:"url"`
	Secret        string    `bun:"secret"`
	Active        bool      `bun:"active"`
	CreatedAt     time.Time `bun:"created_at,nullzero,default:now()"`
}

// Delivery is one logged webhook call.
type Delivery struct {
	bun.BaseModel `bun:"table:webhook_deliveries"`
	ID            int64      `bun:"id,pk,autoincrement"`
	WebhookID     int64      `bun:"webhook_id"`
	Event         string     `bun:"event"`
	Attempts      int        `bun:"attempts"`
	StatusCode    *int       `bun:"status_code"`
	LastError     *string    `bun:"last_error"`
	DeliveredAt   *time.Time `bun:"delivered_at"`
	CreatedAt     time.Time  `bun:"created_at"`
}

// Hooks lists the registered webhooks (administrator only).
func Hooks(ctx context.Context, db bun.IDB, a identity.Actor) ([]Hook, error) {
	if err := identity.Authorize(a, identity.Manage, identity.Resource{Kind: identity.ResReference}); err != nil {
		return nil, err
	}
	var out []Hook
	err := db.NewSelect().Model(&out).OrderExpr("id").Scan(ctx)
	return out, err
}

// AddHook registers a webhook for an agency (administrator only).
func AddHook(ctx context.Context, db bun.IDB, a identity.Actor, agencyID int64, url, secret string) (Hook, error) {
	if err := identity.Authorize(a, identity.Manage, identity.Resource{Kind: identity.ResReference}); err != nil {
		return Hook{}, err
	}
	if len(secret) < 16 {
		return Hook{}, fault.InvalidField("secret", "use a secret of at least 16 characters")
	}
	h := Hook{AgencyID: agencyID, URL: url, Secret: secret, Active: true}
	if _, err := db.NewInsert().Model(&h).ExcludeColumn("id", "created_at").Returning("id, created_at").Exec(ctx); err != nil {
		return Hook{}, fault.InvalidField("agency_id", "no such agency")
	}
	return h, nil
}

// Deliveries lists a webhook's newest deliveries (administrator only).
func Deliveries(ctx context.Context, db bun.IDB, a identity.Actor, hookID int64) ([]Delivery, error) {
	if err := identity.Authorize(a, identity.Manage, identity.Resource{Kind: identity.ResReference}); err != nil {
		return nil, err
	}
	var out []Delivery
	err := db.NewSelect().Model(&out).Where("webhook_id = ?", hookID).OrderExpr("id DESC").Limit(200).Scan(ctx)
	return out, err
}

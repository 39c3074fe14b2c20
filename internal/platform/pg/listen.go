package pg

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// Listener is what Listen calls back. Each may be nil.
type Listener struct {
	// Listening runs each time the LISTEN (re)starts. What was notified
	// while nobody listened is lost: this is where to catch up.
	Listening func()
	// Notified runs for each notification, with its payload.
	Notified func(payload string)
	// Lost runs when the connection drops; Listen reconnects.
	Lost func(err error)
}

// Listen holds a LISTEN on channel until ctx ends, on a connection of its
// own (a pooled one would be held forever), reconnecting with back-off.
func Listen(ctx context.Context, url, channel string, l Listener) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := listenOnce(ctx, url, channel, l)
		if ctx.Err() != nil {
			return
		}
		if l.Lost != nil {
			l.Lost(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

func listenOnce(ctx context.Context, url, channel string, l Listener) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return err
	}
	if l.Listening != nil {
		l.Listening()
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if l.Notified != nil {
			l.Notified(n.Payload)
		}
	}
}

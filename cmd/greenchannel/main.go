// Command greenchannel is the enterprise legal-service green channel:
// REST API, web pages, background worker and scheduler in one binary.
// Run `greenchannel --help` for the subcommands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"greenchannel/internal/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := app.Main(ctx)
	stop()
	os.Exit(code)
}

# greenchannel — the two commands a newcomer needs are `make dev` and `make test`.
# Real logic lives in scripts/; this file only strings the steps together.

SHELL := /bin/bash
.DEFAULT_GOAL := help

# GC_DATABASE_URL / GC_REDIS_URL of the local services, unless already set.
SERVICE_ENV = $(shell scripts/services.sh env)
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X greenchannel/internal/app.Version=$(VERSION)

.PHONY: help dev test check build generate assets browser services-up services-down bench fuzz spec-lint clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

dev: services-up browser build ## start PostgreSQL + Redis, migrate, seed demo data, serve on http://127.0.0.1:8080
	env $(SERVICE_ENV) bin/greenchannel migrate up
	env $(SERVICE_ENV) bin/greenchannel seed --demo
	env $(SERVICE_ENV) GC_LOG_FORMAT=text bin/greenchannel all

test: services-up assets browser ## start the services, then run every test against them
	env $(SERVICE_ENV) go test -p 2 -count=1 ./...

check: ## gofmt, vet, staticcheck, generated code fresh, spec lint, tests
	@test -z "$$(gofmt -l cmd internal api migrations seeds *.go)" || { gofmt -l cmd internal api migrations seeds *.go; echo "gofmt: run 'gofmt -w' on the files above"; exit 1; }
	go vet ./...
	go tool staticcheck ./...
	scripts/check-generated.sh
	$(MAKE) spec-lint
	$(MAKE) test

build: assets ## build bin/greenchannel
	go build -ldflags "$(LDFLAGS)" -o bin/greenchannel ./cmd/greenchannel

generate: ## regenerate api/ from openapi.yaml
	go generate ./api

assets: ## copy pinned npm browser libraries into the embedded static folder
	scripts/assets.sh

spec-lint: ## lint openapi.yaml with Redocly (pinned in scripts/lint)
	scripts/spec-lint.sh

browser: ## install headless Chromium for the browser tests (Debian package) when missing
	scripts/browser.sh

services-up: ## start (or reuse) the local PostgreSQL and Redis
	scripts/services.sh up

services-down: ## stop the local PostgreSQL and Redis
	scripts/services.sh down

bench: services-up assets ## benchmarks, each beside its baseline (see scripts/bench.sh)
	env $(SERVICE_ENV) scripts/bench.sh

fuzz: ## run the fuzz tests for a while each
	go test -run '^$$' -fuzz FuzzParseUSCC -fuzztime 30s ./internal/identity/

clean: ## remove build output (keeps .data/)
	rm -rf bin

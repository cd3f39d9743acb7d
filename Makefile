# The test command README.md names; .ci/run calls it.
GO ?= go

.PHONY: test vet build fuzz bench golden

test: vet
	$(GO) test -race -timeout 20m ./...

vet:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

build:
	$(GO) build -o vigil ./cmd/vigil

# Regenerate golden files and deploy/ artefacts after an intended change.
golden:
	# rules first: deploy's Helm chart copies the rule files rules writes.
	VIGIL_UPDATE_GOLDEN=1 $(GO) test ./rules
	VIGIL_UPDATE_GOLDEN=1 $(GO) test ./...

# A short run of every fuzz target (go test -fuzz takes one target at a time).
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "fuzz $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime 20s $$pkg || exit 1; \
	  done; \
	done

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Static linux binaries with checksums, in dist/ (not run by the tests).
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
.PHONY: release
release:
	rm -rf dist && mkdir -p dist
	for arch in amd64 arm64; do \
	  CGO_ENABLED=0 GOOS=linux GOARCH=$$arch $(GO) build -trimpath -ldflags="-s -w" -o dist/vigil-$(VERSION)-linux-$$arch ./cmd/vigil || exit 1; \
	done
	cd dist && sha256sum vigil-* > SHA256SUMS

# Waystation. `make run` starts the demo controller; `make test` installs what
# the tests need and runs the whole suite. See README.md.

GO       ?= go
ADDR     ?= 127.0.0.1:8080
DATA     ?= ./data
# A count, not a duration: Go 1.26's fuzz coordinator can fail a run with a
# bare "context deadline exceeded" when a duration expires (golang/go#75804,
# fixed in Go 1.27). For long runs by hand a duration is fine: FUZZTIME=5m.
FUZZTIME ?= 20000x
BIN      := bin
# Stoplight Prism and Redocly CLI, installed by npm ci (make apitools);
# tests route their REST calls through Prism when WAYSTATION_PRISM names it.
APITOOLS := $(CURDIR)/internal/controller/api/openapilint

# Every fuzz target, as package:Target, for `make fuzz` (exploring new
# inputs; keep what it finds in the package's testdata/fuzz).
FUZZ_TARGETS := \
	./devices/profile:FuzzDecode \
	./sessions/aftercare:FuzzNormalizeCode \
	./devices/blehrs:FuzzDecode \
	./sessions/scale:FuzzDecode \
	./devices/wire:FuzzDecode \
	./devices/firmware:FuzzParseRange \
	./devices/osc:FuzzDecode \
	./devices/profile:FuzzLineParse \
	./devices/devsim:FuzzDecodeScript \
	./content/music:FuzzSidecar \
	./devices/localaudio:FuzzPlayArgs \
	./kiosk/sandtray:FuzzDecodeAction \
	./kiosk:FuzzCommand \
	./kiosk/journal:FuzzOpen \
	./kiosk/drawing:FuzzDecode \
	./sessions/grouptray:FuzzFromEvents \
	./internal/controller/api:FuzzContract
# Damaged audio files through beep's third-party decoders: slower per input
# (about 3 ms), so fewer of them in `make fuzz`; `make fuzz-decoders` for
# more. It found that a damaged FLAC header made the decoder allocate what
# the header claimed (gigabytes); content/music now checks FLAC metadata
# first, and the inputs are kept as seeds.
FUZZ_DECODERS ?= 5000x

.PHONY: all build build-nocgo figures run test apitools unit js openapi browser fuzz fuzz-decoders bench bench-kiosk bench-compare drills lint deps clean

all: build

# The sandtray's figure pictures (Microsoft Fluent Emoji 3D, MIT) from npm,
# pinned by content/figures/npm/package-lock.json, copied into
# content/figures/library where the binaries embed them: at build time,
# never at run time. Again only when the lock or the catalogue changes.
FIGURES := content/figures
figures: $(FIGURES)/library/.stamp
$(FIGURES)/library/.stamp: $(FIGURES)/npm/package-lock.json $(FIGURES)/catalogue.tsv scripts/figures.sh
	cd $(FIGURES)/npm && npm ci --no-audit --no-fund --loglevel=error
	scripts/figures.sh
	touch $@

# Each command's binary is named waystation-NAME, except the controller's.
# build-nocgo builds those that need no C compiler (what make run needs).
build-nocgo: figures
	$(GO) build -o $(BIN)/waystation ./cmd/waystation
	$(GO) build -o $(BIN)/waystation-devsim ./cmd/devsim
	$(GO) build -o $(BIN)/waystation-kiosk ./cmd/kiosk

build: build-nocgo
	$(GO) build -o $(BIN)/waystation-displays ./cmd/displays
	$(GO) build -o $(BIN)/waystation-kiosk-screen ./cmd/kiosk-screen
	$(GO) build -o $(BIN)/waystation-loadgen ./cmd/loadgen
	$(GO) build -o $(BIN)/waystation-drill ./cmd/drill
	$(GO) build -o $(BIN)/waystation-benchcmp ./cmd/benchcmp

# make run installs the Debian packages when this user can (root or sudo);
# otherwise it names what is missing and runs what builds without them: the
# controller, the kiosk launcher and the simulators need no C compiler; the
# kiosk window (ebiten) needs cgo with the X11/GL headers.
run:
	@scripts/deps.sh --try
	@$(MAKE) --no-print-directory build-nocgo
	@$(GO) build -o $(BIN)/waystation-kiosk-screen ./cmd/kiosk-screen 2>$(BIN)/kiosk-screen-build.log || \
		{ echo "run: the kiosk window (waystation-kiosk-screen) did not build, so the demo runs without it:"; tail -3 $(BIN)/kiosk-screen-build.log; \
		  echo "run: it needs cgo: apt-get install gcc libc6-dev pkg-config libx11-dev libxrandr-dev libxinerama-dev libxi-dev libxcursor-dev libxxf86vm-dev libgl1-mesa-dev libasound2-dev"; }
	$(BIN)/waystation serve --demo --addr $(ADDR) --data $(DATA) --kiosk-app $(BIN)/waystation-kiosk

deps:
	@scripts/deps.sh

# The fuzz targets' seeds and every input kept in testdata/fuzz run as
# ordinary tests in `unit` (go test replays them); exploring new inputs is
# `make fuzz`, never part of `make test`, so a correct tree always passes.
test: deps figures lint apitools unit js openapi browser drills

# The fault drills of RELIABILITY.md against the real binary, in their quick
# setting (F1/F2/F7: 5 kills, power cuts or restarts under load; F8: 5 kills of
# a headless kiosk mid-session; F10: the audio output's disk fills; F11: a serial
# sensor replugged; F3/F4/F6/F12:
# 10-15 s of load; F13: 500 reconnects); about 3.5 minutes. F2, F12 (FUSE), F3 and F10
# (tmpfs) mount file systems and need root; elsewhere they print SKIP.
# Longer: bin/waystation-drill --rounds 20 --connects 10000 --duration 10m [F1 F2 F3 F4 F5 F6 F7 F8 F9 F10 F11 F12 F13 F14 F15].
# bin/waystation-drill RESTART: restart after kill -9 with 1,000,000 stored events.
drills: build apitools
	timeout 15m $(BIN)/waystation-drill --quick --prism $(APITOOLS)

# The kiosk's end-to-end test drives the real kiosk under Xvfb by simulated
# touch; it runs on its own after the rest, so that the other packages' tests
# (under -race, two at a time) do not starve its frames and lose taps.
unit: apitools figures
	WAYSTATION_XDF=1 WAYSTATION_DBUSMOCK=1 WAYSTATION_PRISM=$(APITOOLS) $(GO) test -race -count=1 $$($(GO) list ./... | grep -v '/cmd/kiosk$$')
	$(GO) test -race -count=1 ./cmd/kiosk

# The console's ES modules under node --test: their pure parts (bounded
# series, write keys, strings in both languages), that every module loads and
# imports what it uses, and that a view closes every timer and topic it opened.
js: deps
	node --test internal/controller/console/unit/*.test.mjs

# The tools that hold the REST API to its document, pinned for Node 18:
# Redocly CLI and Stoplight Prism (internal/controller/api/openapilint).
apitools: deps
	cd $(APITOOLS) && npm ci --no-audit --no-fund --loglevel=error

# The REST API's OpenAPI document (internal/controller/api/openapi.yaml,
# served at /v1/openapi.json) linted by Redocly CLI: no errors, no warnings
# but the three websocket routes' (they answer 101; .redocly.lint-ignore.yaml).
# In unit: that it lists every route (TestOpenAPIListsEveryRoute), and the
# contract test (TestContract: requests generated from its schemas as each
# role, read with kin-openapi). The browser test, the drills and the load
# generator's test send every REST call through Prism.
openapi: apitools
	cd $(APITOOLS) && npx --no-install redocly lint ../openapi.yaml --format=stylish

# The console in Debian's headless Chromium; screenshots land in test-output/console/.
browser: deps apitools figures
	cd internal/controller/console/browsertest && npm ci --no-audit --no-fund --loglevel=error
	WAYSTATION_BROWSER=1 WAYSTATION_PRISM=$(APITOOLS) $(GO) test -count=1 -run '^TestBrowser$$' -v ./internal/controller/console

fuzz: figures
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t##*:}; \
		echo "fuzz $$pkg $$fn ($(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 200x $$pkg; \
	done
	@echo "fuzz ./content/music FuzzOpenFile ($(FUZZ_DECODERS))"
	@$(GO) test -run '^$$' -fuzz '^FuzzOpenFile$$' -fuzztime $(FUZZ_DECODERS) ./content/music

fuzz-decoders:
	$(GO) test -run '^$$' -fuzz '^FuzzOpenFile$$' -fuzztime 60s ./content/music

bench: figures
	$(GO) test -run '^$$' -bench . -benchtime 3s ./...

# The same durable-publish workload against this controller and against NATS
# JetStream (nats-server from the module proxy, fsync on every write, and its
# default periodic sync for reference), with the ratios. Never fails on a number.
NATS_SERVER ?= github.com/nats-io/nats-server/v2@v2.15.2
bench-compare: build
	GOBIN=$(CURDIR)/$(BIN) $(GO) install $(NATS_SERVER)
	$(BIN)/waystation-benchcmp --controller $(BIN)/waystation --nats-server $(BIN)/nats-server

# The kiosk's frame times: the sandtray with 200 figures at 1920x1080 under
# Xvfb, 600 frames after 600 empty ones (part of `make bench` too).
bench-kiosk: deps figures
	$(GO) test -run '^$$' -bench 'SandtrayFrames|ShelfBrowse' -benchtime 1x -v ./cmd/kiosk

lint:
	@unformatted=$$(gofmt -l $$(git ls-files --cached --others --exclude-standard '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf $(BIN)

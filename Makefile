# The harness is static (CGO_ENABLED=0): every node image is FROM scratch
# and runs this same binary as its agent.
GO      ?= go
BIN     := bin/harness
export CGO_ENABLED := 0

.PHONY: build run run-k8s test unit golden bench vet clean browser xmllint detection detection-doc screenshot repro-15247 repro-19597 repro-20590 repro-18271 repro-15220 repro-14370 repro-paused-leader bisect-15247 bisect-paused-leader tiers tiers-doc reference

# -buildvcs=auto stamps the git revision (`harness version`, config.json,
# reports) even where GOFLAGS says -buildvcs=false. In a git worktree,
# whose .git is a file, go build stamps nothing: the revision is passed
# from git instead (the go command's stamp wins where there is one).
# Outside a checkout the binary says "(devel)".
GIT_REV   := $(shell git rev-parse HEAD 2>/dev/null)
GIT_DIRTY := $(shell test -n "$$(git status --porcelain 2>/dev/null)" && echo true)
build:
	$(GO) build -trimpath -buildvcs=auto \
		-ldflags "-X main.linkRevision=$(GIT_REV) -X main.linkModified=$(GIT_DIRTY)" \
		-o $(BIN) ./cmd/harness

# The default test: 3 etcd members, 5 campaigners, etcd-election, the
# default nemesis (partitions, pauses, kills, and stops of a random
# campaigner, most of which wait in their campaign) for 60 s. Builds etcd on first use (cached).
run: build
	./$(BIN) run --db etcd --nodes 3 --campaigners 5 --recipe etcd-election \
		--nemesis partition,pause,kill,pause:random-campaigner --time-limit 60s --seed 1

# client-go's leader election through a kube-apiserver in front of the
# etcd members, the leader's work unfenced, under clock-rate skew and
# pauses: caught (exit 1 is the expected verdict, INVALID). Builds
# kube-apiserver on first use (about 6 minutes; cached).
run-k8s: build
	./$(BIN) run --db etcd --recipe k8s-leaderelection --nemesis clock,pause --time-limit 60s --seed 1; test $$? -eq 1

# vet also fails when `go mod tidy` would change go.mod or go.sum, and
# runs staticcheck, pinned (go run fetches it: CI needs no install step;
# v0.8.2 understands this Go). A check wrong for this code is turned off
# in staticcheck.conf, with the reason; none is today.
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
vet:
	$(GO) vet ./...
	@$(GO) mod tidy -diff >/dev/null || { echo "go.mod/go.sum are not tidy (go mod tidy -diff):"; $(GO) mod tidy -diff; exit 1; }
	$(GO) run $(STATICCHECK) ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }

# Unit and integration tests. Integration tests start real etcd clusters
# in Docker; with CI=true they fail rather than skip when Docker is absent.
# The report test opens reports in Debian's headless Chromium.
# The JUnit test validates junit.xml against reports/testdata/junit.xsd
# with Debian's xmllint (libxml2-utils).
test: build vet browser xmllint
	$(GO) test -count=1 -timeout 80m ./...

browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium for the report test"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "no chromium: the report test will skip (apt-get install chromium)"; fi; }

xmllint:
	@command -v xmllint >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing libxml2-utils (xmllint) for the JUnit schema test"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libxml2-utils >/dev/null; \
	  else echo "no xmllint: the JUnit schema test will skip (apt-get install libxml2-utils)"; fi; }

unit: xmllint
	$(GO) test -count=1 -short ./...

# Rewrites the results.json of every golden run (testdata/golden) from a
# new check of its history: for a checker changed on purpose. Review the
# diff (git diff testdata/golden) before committing it.
golden:
	UPDATE_GOLDEN=1 $(GO) test -count=1 -run '^TestGolden$$' ./run/
	@git diff --stat -- testdata/golden

# docs/failed-run.png, the README's picture of a failed run: the golden
# etcd-unfenced run re-checked offline (`harness check` exits 1: invalid)
# and its report shot in headless Chromium. No Docker.
SHOT_DIR := $(or $(TMPDIR),/tmp)/election-harness-screenshot
screenshot: build browser
	rm -rf $(SHOT_DIR) && mkdir -p $(SHOT_DIR)
	cp testdata/golden/etcd-unfenced-p4/config.json testdata/golden/etcd-unfenced-p4/history.jsonl $(SHOT_DIR)/
	./$(BIN) check $(SHOT_DIR) >/dev/null; test $$? -eq 1
	chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,900 \
		--screenshot=$(CURDIR)/docs/failed-run.png file://$(SHOT_DIR)/report.html
	rm -rf $(SHOT_DIR)

# Speed figures: the checker's events/s and peak heap at 10k, 100k, 1M
# and 5M events of a realistic history (reads across writes, timed-out
# writes); report time for 100,000; warm start of a 3-member cluster to
# its first operation, and one 60 s gate run from a warm cache to its
# verdict, its image, set-up, workload, final reads and record and check
# each timed (Docker).
bench: build
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m ./checker/ | tee bench.out
	$(GO) test -run '^$$' -bench . -benchtime 3x -timeout 30m ./reports/ ./cmd/harness/ | tee -a bench.out

# Removes the containers and networks of runs whose harness process is
# gone (never a live run's; `bin/harness clean --dry-run` lists them).
clean: build
	./$(BIN) clean $(CLEAN_FLAGS)

# Detection rates of every unsafe control and of the safe recipes, and
# the known-bug rows. `make detection` runs the suites (detection,
# known-etcd and consul-reads: about 3 hours with two runs at a time;
# `make detection SUITES=known-etcd` runs one), keeps each one's
# suite.json in docs/results, and remakes docs/detection.md. That file is
# made from docs/results alone (`make detection-doc`): docs/detection-head.md,
# each suite's table, then docs/detection-notes.md.
DETECTION_SUITES = detection known-etcd consul-reads soundness soundness-consul user-campaigner upgrade upgrade-3.7 soundness-aimed known-15247 known-20590 failpoint-safe stall-safe pause-leases readers known-20418 known-consul-18271 stall-safe-consul known-consul-2644 consul-default paused-leader-v36 paused-leader-v35 paused-leader-versions flake-etcd flake-consul user-campaigner-keep-term hold-safe controls-holding controls-old-workload new-checks throttle-safe known-15220 known-14370 lose-safe lose-controls compact-safe wipe-safe kube kube-apiserver-faults kube-new-release lose-safe-consul known-consul-2644-restart
SUITES ?= $(DETECTION_SUITES)
detection: build
	mkdir -p /tmp/soundness
	CGO_ENABLED=0 $(GO) build -ldflags "-X main.recreate=on" -o /tmp/soundness/recreate-campaigner ./examples/etcd-campaigner
	CGO_ENABLED=0 $(GO) build -ldflags "-X main.recreate=keep-term" -o /tmp/soundness/keep-term-campaigner ./examples/etcd-campaigner
	for s in $(SUITES); do \
	  ./$(BIN) suite suites/$$s.yaml --parallel 2 --out store/suite-$$s; \
	  test -s store/suite-$$s/suite.json && cp store/suite-$$s/suite.json docs/results/$$s.json || exit 1; \
	done
	$(MAKE) detection-doc

# The reference pages made from the code (docs/reference): every
# command's flags and every fault kind and rule. A test fails when they
# drift from the code.
reference:
	$(GO) run ./cmd/harness reference docs/reference

detection-doc: build
	{ cat docs/detection-head.md; echo; \
	  for s in $(DETECTION_SUITES); do \
	    if [ -f docs/results/$$s.json ]; then ./$(BIN) suite-merge --markdown docs/results/$$s.json || exit 1; \
	    else printf '# Suite %s\n\nNot measured yet (`make detection SUITES=%s`).\n' $$s $$s; fi; echo; \
	  done; cat docs/detection-notes.md; } > docs/detection.md.new
	mv docs/detection.md.new docs/detection.md

# Reproductions of known bugs (the README's track record): each runs
# the buggy and the fixed version (or recipe), SEEDS seeds each, and
# prints every run's verdict with the line of the property that finds
# the bug. The suites of the same settings measure the rates
# (docs/detection.md).
REPRO_STORE ?= store
SEEDS ?= 1
# etcd #15247 / #12528 (a stuck old raft leader revokes leases kept
# alive through the others; buggy <= v3.5.12, fixed v3.5.13): the raft
# leader's raft loop stuck by a failpoint for longer than the TTL; P8
# (judged) finds a lease renewed through the new leader whose key was
# deleted before the renewal ran out. Suite known-15247.
repro-15247: build
	@for v in v3.5.12 v3.5.13; do for s in $(SEEDS); do \
	  out=$$(./$(BIN) run --db etcd --version $$v --failpoints --nemesis failpoint:raft-leader-stuck \
	    --ttl 3s --nemesis-interval 5s --time-limit 180s --seed $$s --store $(REPRO_STORE) 2>&1); \
	  echo "#15247 etcd $$v seed $$s: $$(echo "$$out" | grep -E '^(VALID|INVALID|UNKNOWN)' | head -1)"; \
	  echo "$$out" | grep -E 'P7 leases|P8 renewed' | sed 's/^ */    /'; \
	done; done
# etcd #19597 (concurrency.Election.Campaign returns success after the
# waiting campaigner's session expired; a client bug, open in every
# release): the recipe that takes Campaign's word (etcd-trust-campaign)
# against etcd-election, which checks that its own key leads; a random
# campaigner stopped for longer than its lease. P3 finds the phantom
# grant. Suite soundness-aimed.
repro-19597: build
	@for r in etcd-trust-campaign etcd-election; do for s in $(SEEDS); do \
	  out=$$(./$(BIN) run --db etcd --recipe $$r --nemesis pause:random-campaigner --seed $$s --store $(REPRO_STORE) 2>&1); \
	  echo "#19597 $$r seed $$s: $$(echo "$$out" | grep -E '^(VALID|INVALID|UNKNOWN)' | head -1)"; \
	  echo "$$out" | grep -E 'P3 granted' | sed 's/^ */    /'; \
	done; done

# etcd #20590 (a lease renewal answered with the full TTL after the lease
# was revoked; buggy <= v3.5.22, fixed v3.5.23): the raft leader's lessor
# stalls every renewal (failpoint beforeCheckpointInLeaseRenew, patched
# into v3.5.22) until its lease expired and was revoked, on the buggy
# and the fixed version, SEEDS seeds each; prints each run's verdict and
# P8's line. The campaigners also renew by KeepAliveOnce (--option
# renew=once): the Go client's keepalive stream drops such late answers
# (see docs/detection-notes.md).
repro-20590: build
	@for v in v3.5.22 v3.5.23; do for s in $(SEEDS); do \
	  out=$$(./$(BIN) run --db etcd --version $$v --failpoints --nemesis failpoint:renew-past-revoke --option renew=once \
	    --ttl 3s --nemesis-interval 5s --time-limit 60s --seed $$s --store $(REPRO_STORE) 2>&1); \
	  echo "#20590 etcd $$v seed $$s: $$(echo "$$out" | grep -E '^(VALID|INVALID|UNKNOWN)' | head -1)"; \
	  echo "$$out" | grep -E 'P8 renewed' | sed 's/^ */    /'; \
	done; done

# etcd #15220 (a requested progress notification answered at the
# store's revision while the stream's watchers were still catching up;
# buggy <= v3.5.7, fixed v3.5.8): members killed and restarted, each
# member's pinned watcher resuming after its restart while it asks for
# progress every second; P11 (bookmarkable) finds an event delivered
# after a progress notification at a later revision. Suite known-15220.
repro-15220: build
	@for v in v3.5.7 v3.5.8; do for s in $(SEEDS); do \
	  out=$$(./$(BIN) run --db etcd --version $$v --nemesis kill --time-limit 60s --seed $$s --store $(REPRO_STORE) 2>&1); \
	  echo "#15220 etcd $$v seed $$s: $$(echo "$$out" | grep -E '^(VALID|INVALID|UNKNOWN)' | head -1)"; \
	  echo "$$out" | grep -E 'P11 watches' | sed 's/^ */    /'; \
	done; done

# etcd #14370 (a one-member cluster acknowledges writes its WAL has not
# synced, and loses them on a crash; buggy <= v3.5.4, fixed v3.5.5):
# one member, its syncs held until one is caught and then its power lost
# (lose-unsynced:raft-leader-stalled: what it wrote meanwhile is undone);
# P4 finds the store gone back in time. Suite known-14370.
repro-14370: build
	@for v in v3.5.4 v3.5.5; do for s in $(SEEDS); do \
	  out=$$(./$(BIN) run --db etcd --nodes 1 --version $$v --nemesis lose-unsynced:raft-leader-stalled --time-limit 60s --seed $$s --store $(REPRO_STORE) 2>&1); \
	  echo "#14370 etcd $$v seed $$s: $$(echo "$$out" | grep -E '^(VALID|INVALID|UNKNOWN)' | head -1)"; \
	  echo "$$out" | grep -E 'P4 fenced' | sed 's/^ */    /'; \
	done; done

# Consul #18271 (api.Lock notices lock loss late when packets are
# dropped; every consul/api version): the election leader cut from
# every server for longer than its session lives and the next holder
# takes the lock (partition:isolate-election-leader-long), api.Lock as
# its docs show it (consul-lock-stock) against the same lock made safe
# (consul-lock), SEEDS seeds each; prints both verdicts per seed, with
# P4's line and split-brain exposure's (terms-acted-on-after-superseded:
# terms a cut-off holder acted under after another was granted the lock).
repro-18271: build
	@for s in $(SEEDS); do for r in consul-lock-stock consul-lock; do \
	  out=$$(./$(BIN) run --db consul --recipe $$r --nemesis partition:isolate-election-leader-long \
	    --nemesis-interval 10s --time-limit 140s --seed $$s --store $(REPRO_STORE) 2>&1); \
	  echo "#18271 $$r seed $$s: $$(echo "$$out" | grep -E '^(VALID|INVALID|UNKNOWN)' | head -1)"; \
	  echo "$$out" | grep -E 'P4 |split-brain' | sed 's/^ */    /'; \
	done; done

# The paused-leader lease revocation (docs/findings/etcd-paused-leader-
# revokes-renewed-leases.md): a raft leader resuming from a pause longer
# than the lease revokes leases renewed through its successor, since
# ensureLeadership's isActive shortcut (etcd #18428, v3.5.16) skips the
# leadership check. Stock v3.6.16 against the control build without the
# shortcut (--patch ensure-leadership-always-checks), under the aimed
# rule; P8 (judged) finds a won term's lease ended before its renewal
# ran out. Suites paused-leader-v36 and paused-leader-v35 measure it.
PAUSED_LEADER_FLAGS = --db etcd --ttl 10s --hold-until-lost 1 --nemesis pause:raft-leader-long --time-limit 240s --server-log-level debug
repro-paused-leader: build
	@for v in v3.6.16 v3.6.16+ensure-leadership-always-checks; do for s in $(SEEDS); do \
	  patch=$${v#*+}; ver=$${v%%+*}; pflag=; [ "$$patch" != "$$v" ] && pflag="--patch $$patch"; \
	  out=$$(./$(BIN) run $(PAUSED_LEADER_FLAGS) --version $$ver $$pflag --seed $$s --store $(REPRO_STORE) 2>&1); \
	  echo "paused leader: etcd $$v seed $$s: $$(echo "$$out" | grep -E '^(VALID|INVALID|UNKNOWN)' | head -1)"; \
	  echo "$$out" | grep -E 'P8 renewed' | sed 's/^ */    /'; \
	done; done

# harness bisect on a known bug, both ways: etcd #15247 between its fix
# (v3.5.13, good) and the release before it (v3.5.12, bad), the two
# ends run (adjacent releases: nothing between), 3 seeds each; and the
# paused-leader revocation between v3.5.13 and v3.6.16 (BISECT_SEEDS
# runs per release visited). Each writes bisect.md and bisect.json
# under store/, and docs/results/bisect/ keeps a copy of both.
BISECT_SEEDS ?= 3
bisect-15247: build
	./$(BIN) bisect --db etcd --good v3.5.13 --bad v3.5.12 --failpoints --nemesis failpoint:raft-leader-stuck \
	  --ttl 3s --time-limit 180s --property P8 --seeds 3 --out store/bisect-15247
	mkdir -p docs/results/bisect && cp store/bisect-15247/bisect.md docs/results/bisect/15247.md
	cp store/bisect-15247/bisect.json docs/results/bisect/15247.json
bisect-paused-leader: build
	./$(BIN) bisect $(PAUSED_LEADER_FLAGS) --good v3.5.13 --bad v3.6.16 --property P8 --seeds $(BISECT_SEEDS) \
	  --trust-ends --out store/bisect-paused-leader
	mkdir -p docs/results/bisect && cp store/bisect-paused-leader/bisect.md docs/results/bisect/paused-leader.md
	cp store/bisect-paused-leader/bisect.json docs/results/bisect/paused-leader.json

# What each presubmit tier catches: suites/presubmit.yaml under an
# 8-minute budget, two runs at a time, once per recipe: the safe recipe,
# every etcd unsafe control, and the example campaigner's two mutants
# (fencing off; re-creating its key after losing its session). The 2- and
# 4-minute tiers are the first minutes of the 8-minute one (the budget
# rule is the same; suite.Tiers). Each run's suite.json is kept in
# docs/results/tiers/, and docs/results/tiers.md is made from them alone
# (`make tiers-doc`). About an hour; run it alone: a budget is wall time.
TIER_RECIPES = etcd-election etcd-unfenced etcd-cached etcd-check-then-act etcd-trust-campaign \
	exec:/tmp/soundness/fencing-off-campaigner exec:/tmp/soundness/recreate-campaigner
TIER_BUDGETS = 2m,4m,8m
tiers: build
	mkdir -p /tmp/soundness docs/results/tiers
	CGO_ENABLED=0 $(GO) build -ldflags "-X main.fencing=off" -o /tmp/soundness/fencing-off-campaigner ./examples/etcd-campaigner
	CGO_ENABLED=0 $(GO) build -ldflags "-X main.recreate=on" -o /tmp/soundness/recreate-campaigner ./examples/etcd-campaigner
	for r in $(TIER_RECIPES); do n=$$(basename $${r#exec:}); \
	  ./$(BIN) suite suites/presubmit.yaml --recipe $$r --budget 8m --parallel 2 --out store/tier-$$n; \
	  test -s store/tier-$$n/suite.json && cp store/tier-$$n/suite.json docs/results/tiers/$$n.json || exit 1; \
	done
	$(MAKE) tiers-doc

tiers-doc: build
	{ cat docs/tiers-head.md; echo; \
	  ./$(BIN) suite-merge --tiers $(TIER_BUDGETS) $(foreach r,$(TIER_RECIPES),docs/results/tiers/$(notdir $(r:exec:%=%)).json) || exit 1; } > docs/results/tiers.md.new
	mv docs/results/tiers.md.new docs/results/tiers.md

# Switchman: `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DISTS  := proto agent controller cli
SYSTEM_PACKAGES := haproxy prometheus prometheus-alertmanager prometheus-node-exporter wrk systemd podman runc busybox-static chromium docker.io

.PHONY: dev test lint bench demo demo-stop dist deb proto proto-check system-deps clean

dev: $(STAMP)

$(STAMP): $(foreach d,$(DISTS),$(d)/pyproject.toml) requirements-dev.txt
	@echo "setting up $(VENV) (log: $(VENV)/install.log)"
	@$(PYTHON) -m venv $(VENV)
	@( $(BIN)/pip install --upgrade pip && \
	   $(BIN)/pip install --config-settings editable_mode=compat \
		$(foreach d,$(DISTS),-e ./$(d)) -r requirements-dev.txt ) > $(VENV)/install.log 2>&1 \
	   || { tail -30 $(VENV)/install.log; exit 1; }
	@touch $(STAMP)

# Real HAProxy, Prometheus (promtool), Alertmanager, node_exporter, wrk, podman (runc),
# busybox-static (test images), Chromium and systemd-analyze from Debian's packages: the tests and benchmarks use them.
system-deps:
	@missing=""; \
	for c in haproxy promtool prometheus-alertmanager prometheus-node-exporter wrk systemd-analyze podman runc busybox chromium dockerd; do \
		command -v $$c >/dev/null 2>&1 || missing="$$missing $$c"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages (missing:$$missing)"; \
		if [ "$$(id -u)" != 0 ]; then echo "need root to apt-get install $(SYSTEM_PACKAGES)" >&2; exit 1; fi; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; \
	fi

proto: dev
	$(BIN)/python proto/generate.py

proto-check: dev
	$(BIN)/python proto/generate.py --check

lint: dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy -p switchman.proto -p switchman.agent -p switchman.controller -p switchman.cli
	$(BIN)/mypy tests bench examples docs

test: dev system-deps lint
	$(BIN)/pytest -q -n 2 --dist loadfile --durations=25 tests

bench: dev system-deps
	$(BIN)/python bench/run_all.py

demo: dev
	$(BIN)/python examples/demo.py

# stop what `KEEP=1 make demo` left running (daemons and service slots)
demo-stop: dev
	$(BIN)/python examples/demo.py stop

dist: dev
	rm -rf dist && mkdir -p dist
	$(BIN)/pip wheel -q --no-deps -w dist $(foreach d,$(DISTS),./$(d))

deb: dist
	$(BIN)/python packaging/deb/build.py

clean:
	rm -rf $(VENV) dist build */build */*.egg-info bench/results/*.json

# Two commands set everything up on a fresh machine: `make demo` and `make test`.
VENV ?= .venv
PYTHON ?= python3
# CPU-only torch first; elsewhere add e.g. TORCH_PIP_ARGS="--index-url https://download.pytorch.org/whl/cpu"
TORCH_VERSION ?= 2.13.0
TORCH_PIP_ARGS ?=
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Debian packages: Tesseract OCR with Indonesian for scans, Chromium to check the HTML dashboard renders.
SYSTEM_PACKAGES := tesseract-ocr tesseract-ocr-ind chromium chromium-driver
SYSTEM_COMMANDS := tesseract chromium

.PHONY: install system-packages demo test serve deploy relay storage-up storage-down clean

install: system-packages $(STAMP)

# Installs what is missing where apt-get is available and we are root; elsewhere says what to install.
system-packages:
	@missing=""; for c in $(SYSTEM_COMMANDS); do command -v $$c >/dev/null || missing="$$missing $$c"; done; \
	tesseract --list-langs 2>/dev/null | grep -qx ind || missing="$$missing tesseract-ocr-ind"; \
	if [ -n "$$missing" ]; then \
	  if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES); \
	  else echo "Please install the system packages: $(SYSTEM_PACKAGES) (missing:$$missing)"; fi; \
	fi

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==$(TORCH_VERSION) $(TORCH_PIP_ARGS)
	$(BIN)/pip install --quiet -e '.[dev,postgres]'
	touch $@

demo: install
	$(BIN)/spbe-evidence demo

test: install
	$(BIN)/python -m pytest

# Production with Prefect on this machine: server, work pool, deployments of prefect.yaml, a worker (docs/operations.md).
serve: install
	$(BIN)/python -m flows.serve

# The work pool and the deployments of prefect.yaml on the server PREFECT_API_URL names, from this folder: the
# workers run the flows from this same path (a bare `prefect deploy --all` without SPBE_PROJECT_DIR deploys runs that
# crash every night).
deploy: install
	$(BIN)/prefect work-pool create spbe-process --type process --overwrite
	SPBE_PROJECT_DIR=$(CURDIR) $(BIN)/prefect --no-prompt deploy --all

# Reruns an SKPD's submissions when the S3 server says they changed (webhook target; docs/operations.md).
relay: install
	$(BIN)/python -m flows.relay

storage-up: install
	$(BIN)/spbe-evidence storage up

storage-down: install
	$(BIN)/spbe-evidence storage down

clean:
	-$(BIN)/spbe-evidence storage down
	rm -rf var

# Two commands set everything up on a fresh machine: `make demo` and `make test`.
VENV ?= .venv
PYTHON ?= python3
# CPU-only torch first; elsewhere add e.g. TORCH_PIP_ARGS="--index-url https://download.pytorch.org/whl/cpu"
TORCH_VERSION ?= 2.13.0
TORCH_PIP_ARGS ?=
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test storage-up storage-down clean

install: $(STAMP)

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

storage-up: install
	$(BIN)/spbe-evidence storage up

storage-down: install
	$(BIN)/spbe-evidence storage down

clean:
	-$(BIN)/spbe-evidence storage down
	rm -rf var

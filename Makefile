# Two entry points for a fresh clone: `make demo` (main job on a tiny default) and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
DEMO_OUT ?= demo_out
DEMO_PREVIEW ?= demo_preview

.PHONY: setup demo test lint clean-demo starter-bank

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -c constraints.txt -e '.[all,dev]'
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(VENV)/bin/transphy3d render --scenes 2 --config tiny --out $(DEMO_OUT)
	$(VENV)/bin/transphy3d preview default --out $(DEMO_PREVIEW)

# The shipped starter bank (assets_manifest/): written by our own code, imported, kept (curated).
starter-bank: setup
	rm -rf assets_manifest/starter assets_manifest/cache assets_manifest/starter.jsonl
	$(VENV)/bin/transphy3d assets starter --out assets_manifest/starter --manifest assets_manifest/starter.jsonl

test: setup
	$(PY) -m ruff check transphy3d tests benchmarks examples
	$(PY) -m pytest -q

lint: setup
	$(PY) -m ruff check transphy3d tests benchmarks examples
	$(PY) -m ruff format --check transphy3d tests benchmarks examples

clean-demo:
	rm -rf $(DEMO_OUT) $(DEMO_PREVIEW)

# The README's two commands: `make demo` and `make test`. Each creates .venv and installs what it needs.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.modbot-installed

.PHONY: demo test bench compare install clean

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	@echo "Installing modbot and its dependencies into $(VENV) (first run only)..."
	@# The CPU build of torch first, so nothing pulls a multi-gigabyte CUDA build.
	$(PY) -m pip install --quiet --disable-pip-version-check 'torch==2.13.0'
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/modbot demo

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest -q

bench: $(STAMP)
	$(PY) benches/bench_classifiers.py

compare: $(STAMP)
	$(PY) benches/compare_backends.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache

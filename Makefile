# Skiff: `make run` brings the stack up, `make test` proves it. Needs only Python 3.11+ and make.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
CHECKED := libs/kit/src libs/messaging/src libs/embedded/src libs/testing/src libs/standins/src proto-schemas/src cli/src $(wildcard services/*/src)
BENCHES := $(patsubst bench/%/run.py,%,$(wildcard bench/*/run.py))

.PHONY: install run test lint typecheck fmt unit bench contracts contracts-check settings settings-check clean-data help
.PHONY: docker-engine sandbox-image
.PHONY: infra-images test-containers
.PHONY: images compose-test

help:  ## list the targets
	@grep -E '^[a-z%-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv

install: $(UV)  ## install every package of the workspace into .venv (uv from PyPI if missing)
	$(UV) sync --frozen

run: install  ## the whole stack on embedded PostgreSQL + NATS; gateway on http://localhost:8080
	$(UV) run skiff up $(ARGS)

test: install lint typecheck contracts-check settings-check unit  ## ruff, mypy --strict, contract and settings drift, every test

lint:  ## ruff lint and format check
	$(UV) run ruff check .
	$(UV) run ruff format --check .

typecheck:  ## mypy --strict on libs, services, cli and contracts
	$(UV) run mypy $(CHECKED)

unit:  ## the test suite (real PostgreSQL and NATS from the wheels)
	$(UV) run pytest -q --durations=25 $(PYTEST_ARGS)

fmt:  ## format and auto-fix
	$(UV) run ruff format .
	$(UV) run ruff check --fix .

contracts: install  ## regenerate JSON Schema + AsyncAPI into proto-schemas/generated/
	$(UV) run python -m skiff_contracts.generate

contracts-check:
	$(UV) run python -m skiff_contracts.generate --check

settings: install  ## regenerate docs/settings.md and skiff_kit/known_settings.json from the settings classes
	$(UV) run python -m skiff_cli.settings_reference

settings-check:
	$(UV) run python -m skiff_cli.settings_reference --check

bench: install $(addprefix bench-,$(BENCHES))  ## every benchmark under bench/

bench-%: install  ## one benchmark: make bench-events runs bench/events
	$(UV) run python bench/$*/run.py

docker-engine:  ## make sure a Docker engine answers (installs docker.io and starts dockerd as root)
	scripts/docker-engine.sh

sandbox-image: docker-engine  ## build skiff-sandbox:latest with debootstrap (skipped when up to date; FORCE=1)
	scripts/sandbox-image.sh

infra-images: install docker-engine  ## build skiff-postgres and skiff-nats images from the wheels' binaries (skipped when present; FORCE=1)
	scripts/infra-images.sh

images: install docker-engine sandbox-image infra-images  ## the service image (skiff:<version>) from a debootstrap base, plus sandbox and infra images
	scripts/base-image.sh
	scripts/service-image.sh

compose-test: images  ## docker-compose.yml for real: up, healthy, the first flow on localhost, down -v
	$(UV) run python scripts/compose_test.py

TC_PATHS ?= libs/testing services/billing
test-containers: infra-images  ## run TC_PATHS with PostgreSQL and NATS in containers (SKIFF_TEST_INFRA=testcontainers)
	SKIFF_TEST_INFRA=testcontainers $(UV) run pytest -q $(TC_PATHS) $(PYTEST_ARGS)

clean-data:  ## delete the embedded stack's data (.skiff/)
	rm -rf .skiff

# The single entry point: `make run` starts the portal, `make test` proves it.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
DEMO_PASSWORD ?= jap-demo-2018

# A development default; production sets DEBUG=false and a SECRET_KEY.
export DEBUG ?= true

.PHONY: run test lint scan bench setup migrate demo fonts messages

$(BIN)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# The translations: each catalogue compiled for gettext (msgfmt, as `compilemessages` runs it),
# again whenever its .po changes.
MESSAGES := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/django.po))

locale/%/LC_MESSAGES/django.mo: locale/%/LC_MESSAGES/django.po
	msgfmt --check-format -o $@ $<

# The PDFs' fonts from Debian, when missing: Noto for Arabic, Cyrillic and Latin (fonts-noto-core) and
# for Chinese (fonts-noto-cjk). Quiet when they are there; without apt (or root, or sudo) it says what
# to install and goes on: the PDFs then fall back to whatever fonts the machine has.
fonts:
	@missing=""; \
	fc-list : family 2>/dev/null | grep -i "Noto Sans Arabic" >/dev/null || missing="$$missing fonts-noto-core"; \
	fc-list : family 2>/dev/null | grep -i "Noto Sans CJK SC" >/dev/null || missing="$$missing fonts-noto-cjk"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; elif sudo -n true 2>/dev/null; then sudo="sudo"; else sudo="none"; fi; \
	if command -v apt-get >/dev/null && [ "$$sudo" != none ]; then \
		$$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else \
		echo "Fonts for the PDFs in Arabic and Chinese are missing: install$$missing (Debian) or the Noto fonts."; \
	fi

setup: $(BIN)/.installed node_modules/.installed fonts $(MESSAGES)
	mkdir -p var/media var/celery/queue var/celery/processed var/celery/control

# After changing the code's strings: gather them into every catalogue (new ones untranslated,
# changed ones fuzzy) for the translators; the catalogue tests fail until each is translated.
messages: $(BIN)/.installed
	$(BIN)/python manage.py makemessages --no-obsolete --ignore=node_modules --ignore=staticfiles --ignore=var \
		--ignore=tests -l fr -l es -l ar -l ru -l zh_Hans

migrate: setup
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_reference

demo: migrate
	$(BIN)/python manage.py seed_demo --scale S --if-empty --password "$(DEMO_PASSWORD)"

run: demo
	@echo
	@echo "  Joint Action Plan Portal: http://127.0.0.1:$(PORT)/"
	@echo "  Logins (password $(DEMO_PASSWORD)): admin, officer, committee, secretary,"
	@echo "  and one reporter per field office, e.g. reporter.unodc-roseap"
	@echo "  Ctrl-C stops the web server, the Celery workers and Celery beat."
	@echo
	@# honcho answers Ctrl-C by stopping every process and exiting 130: for make, a stop as asked, not an error.
	PORT=$(PORT) PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start || [ $$? -eq 130 ]

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Security scans: bandit fails on any medium or high finding not explained by a
# `# nosec <id>  # <why>` on its line (its notes about those lines are dropped); the
# dependency audit says plainly when its advisory source could check nothing.
scan: setup
	$(BIN)/bandit -q -c pyproject.toml -r . --severity-level medium 2>&1 | grep -v "nosec encountered"; exit $${PIPESTATUS[0]}
	$(BIN)/python tools/audit_dependencies.py requirements.txt

# As many workers as cores (each with its own test database and Redis database); the slowest
# tests are listed at the end, to keep `make test` short.
PYTEST_ARGS ?= -n auto --dist worksteal --durations=15

# Bytecode is cached (in the git-ignored __pycache__) even where the environment says not to write it:
# the suite starts dozens of Python processes (its workers, Celery workers, servers, commands), and
# each would compile the project anew, as each worker would rewrite every test module's assertions.
# The scans run beside the tests (they mostly wait on the network) and say what they found after them;
# either failing fails the target.
test: export PYTHONDONTWRITEBYTECODE =
test: setup
	$(BIN)/ruff check .
	$(MAKE) --no-print-directory scan > var/scan.log 2>&1 & scan=$$!; \
	$(BIN)/python -m pytest $(PYTEST_ARGS); tests=$$?; \
	wait $$scan; scanned=$$?; cat var/scan.log; exit $$(( tests || scanned ))

# The benchmark at one scale: SCALE is one of portal/demo.py's SCALES (default L; `make bench SCALE=S`).
# Each scale has a database of its own (BENCH_DATABASE_URL suffixed with the scale: jap_bench_l) and the
# benchmark a Redis database of its own: it never touches the development data. It prints each figure
# beside its floor, writes var/bench/results-SCALE.json and rewrites the scale's section of BENCHMARKS.md.
SCALE ?= L
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/jap_bench
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/3
BENCH_ARGS ?=

bench: setup
	DATABASE_URL=$(BENCH_DATABASE_URL)_$(shell echo '$(SCALE)' | tr A-Z a-z) REDIS_URL=$(BENCH_REDIS_URL) \
		$(BIN)/python manage.py benchmark --scale $(SCALE) $(BENCH_ARGS)

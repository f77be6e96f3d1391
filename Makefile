# Each target says what it does; the README's two commands are `make demo` and `make test`.
.PHONY: demo test ci lint format typecheck migration bench shopify-app

demo:        ## run the embedded demo (SQLite, in-process jobs) on http://127.0.0.1:5000
	scripts/demo

test:        ## run the whole test suite (installs what it needs, starts PostgreSQL and Redis)
	scripts/test

ci:          ## what CI runs: lint, format check, mypy, migration check, tests
	bash .ci/run

lint:        ## ruff lint
	.venv/bin/ruff check .

format:      ## ruff format
	.venv/bin/ruff format .

typecheck:   ## mypy --strict on the domain
	.venv/bin/mypy

migration:   ## regenerate the initial migration from the models (pre-release only)
	.venv/bin/python scripts/regenerate_migration.py

bench:       ## run every benchmark (prints medians and ratios against an in-run baseline)
	scripts/bench

shopify-app: ## build widgets/shopify for `shopify app deploy`: app TOML from manifest.yml, theme assets from widgets/src
	.venv/bin/python -m connectors.shopify.app_toml
	.venv/bin/python widgets/build.py

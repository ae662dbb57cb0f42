# Two commands do all set-up on a fresh machine (see README.md):
#   make demo   install everything, create the demo database, start Odoo (+ edge simulator)
#   make test   install everything, run every test, print a summary
#               (the addons' Odoo tests under pytest-odoo; make test-odoo-bin: under odoo-bin)
#   make cluster  two Odoo nodes on the demo database, the job runner on one (cluster-stop)
#   make docs   regenerate docs/contract/ from the JSON Schemas (checked by canonical/tests)
#   make lint   ruff + pylint-odoo (OCA's checks), as pre-commit and CI run them
#   make pot    regenerate addons/<addon>/i18n/<addon>.pot with Odoo's exporter (after install)
SHELL := /bin/bash
.PHONY: cluster cluster-stop lint install demo test test-odoo test-odoo-pytest test-odoo-bin test-pytest bench docker-check clean stop docs docs-check pot

install:
	bash setup/install.sh

demo: install
	bash setup/demo.sh

test: install
	bash setup/test.sh

# Two Odoo nodes on the demo database, the job runner on one (README "Several Odoo nodes").
cluster: install
	bash setup/cluster.sh

cluster-stop:
	bash setup/cluster.sh --stop

test-odoo: install
	bash setup/test.sh --only odoo

test-odoo-pytest: install
	bash setup/test.sh --only odoo --odoo-runner pytest-odoo

# The same tests the old way (odoo-bin -i ... --test-enable), to compare or to fall back.
test-odoo-bin: install
	bash setup/test.sh --only odoo --odoo-runner odoo-bin

test-pytest: install
	bash setup/test.sh --only pytest

lint: install
	bash setup/lint.sh

bench: install
	bash setup/bench.sh

# Standard library only: no install needed.
docs:
	python3 canonical/tools/gen_docs.py

docs-check:
	python3 canonical/tools/gen_docs.py --check

# Needs the Odoo source and .venv from `make install`; uses a throwaway database (POT_DB).
pot:
	bash setup/pot.sh

docker-check:
	bash docker/check.sh

stop:
	bash setup/demo.sh --stop

clean:
	rm -rf .venv var

# Two commands do all set-up on a fresh machine (see README.md):
#   make demo   install everything, create the demo database, start Odoo (+ edge simulator)
#   make test   install everything, run every test, print a summary
SHELL := /bin/bash
.PHONY: install demo test test-odoo test-pytest bench docker-check clean stop

install:
	bash setup/install.sh

demo: install
	bash setup/demo.sh

test: install
	bash setup/test.sh

test-odoo: install
	bash setup/test.sh --only odoo

test-pytest: install
	bash setup/test.sh --only pytest

bench: install
	bash setup/bench.sh

docker-check:
	bash docker/check.sh

stop:
	bash setup/demo.sh --stop

clean:
	rm -rf .venv var

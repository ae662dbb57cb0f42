import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from helpers import ensure_shared_broker  # noqa: E402

from edge_bridge.simulator.odoo_standin import OdooStandIn  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "odoo: needs a running Odoo with the mfg_integration addon")


@pytest.fixture
def standin():
    receiver = OdooStandIn().start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="session")
def shared_broker():
    ensure_shared_broker()
    return ("127.0.0.1", 1883)

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from odoo_harness import OdooServer, drop_db  # noqa: E402


@pytest.fixture(scope="session")
def odoo_server():
    """A real Odoo with mfg_integration on a throwaway database, shared by the session."""
    server = OdooServer().install()
    try:
        yield server
    finally:
        server.stop()
        drop_db(server.db)

from . import test_outbound_delivery
from . import test_outbound_health
from . import test_inbound_endpoint
from . import test_access
from . import test_secrets_retention
from . import test_inbound_hardening

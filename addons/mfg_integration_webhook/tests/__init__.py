from . import test_outbound_delivery
from . import test_outbound_health
from . import test_inbound_endpoint
from . import test_inbound_hardening

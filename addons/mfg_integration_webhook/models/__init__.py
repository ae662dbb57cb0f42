from . import mfg_webhook_event_type
from . import mfg_webhook_subscription
from . import mfg_webhook_delivery
from . import mfg_message
from . import mfg_connector
from . import mfg_inbound_idempotency
from . import mfg_inbound_rate_window

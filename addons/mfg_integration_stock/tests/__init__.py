from . import test_outbound_documents
from . import test_inbound_documents
from . import test_interplant
from . import test_interplant_remote
from . import test_stock_snapshot

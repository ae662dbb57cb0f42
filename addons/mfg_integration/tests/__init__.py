from . import test_ingest
from . import test_hostile_ingest
from . import test_processing
from . import test_operator_actions
from . import test_security
from . import test_http
from . import test_hostile_http
from . import test_mapping_import

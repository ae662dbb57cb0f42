from . import test_mapping
from . import test_push
from . import test_pull
from . import test_access
from . import test_credentials

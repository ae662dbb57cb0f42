from . import test_rfc
from . import test_odata
from . import test_soap
from . import test_idoc
from . import test_order_to_mo
from . import test_access
from . import test_credentials
from . import test_execution_loop

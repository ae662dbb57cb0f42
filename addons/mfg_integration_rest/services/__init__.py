from . import rest_mapping
from . import rest_pull

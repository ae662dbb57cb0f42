from . import json2_ingest

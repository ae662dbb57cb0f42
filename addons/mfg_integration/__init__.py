from . import services
from . import controllers
from . import models
from . import wizards
from .hooks import post_init_hook

# The message table is partitioned: Odoo must see it as a table from the moment the addon
# is imported (registry checks run before any model of ours; see services/partitioning.py).
services.partitioning.recognise_partitioned_tables()

"""Edge bridge: plant-floor sources -> aggregation -> durable buffer -> Odoo sink."""
__version__ = "0.1.0"

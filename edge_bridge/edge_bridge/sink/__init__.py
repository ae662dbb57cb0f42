"""Sink stage: push buffered envelopes into Odoo's ``mfg.message.ingest``."""

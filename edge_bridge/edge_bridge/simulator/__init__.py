"""Simulators for tests, demos and benchmarks: a PLC (OPC UA server), an MES (MQTT publisher),
and a stand-in for Odoo's ingest endpoint. Same seed, same events, known ground truth."""

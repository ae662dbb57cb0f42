"""RFC/BAPI calls through the ``pyrfc`` API.

``pyrfc`` (SAP's, or a compatible package) is optional: it is imported lazily, so the addon
installs and its SOAP/OData transports work without it. Anything that implements
``Connection(**params).call(function_name, **kwargs)`` and ``close()`` can be plugged in
through the connector's connection factory; the tests use that for an in-process SAP peer.
"""
import importlib
import logging

from .sap_errors import SapBusinessError, SapRetryableError

_logger = logging.getLogger(__name__)

# pyrfc exception class names that a later try can get past (compared by name so a
# compatible implementation's classes classify the same way without importing them): the
# network and the gateway, a short dump of the server (memory, timeouts). Everything else -
# ExternalRuntimeError (RFC_INVALID_PARAMETER, a value too long for its field), logon and
# authorization errors, anything unknown - repeats on every try: it is a configuration or
# data error and goes to exception with SAP's text.
RETRYABLE_RFC_ERRORS = {"CommunicationError", "ABAPRuntimeError", "TimeoutError",
                        "ConnectionError", "OSError"}


def pyrfc_module():
    """The pyrfc module, or None when it is not installed."""
    try:
        return importlib.import_module("pyrfc")
    except ImportError:
        return None


def pyrfc_status():
    module = pyrfc_module()
    if module is None:
        return False, ("pyrfc is not installed: RFC/BAPI connectors cannot connect. Install "
                       "SAP's PyRFC with the NW RFC SDK (or a pyrfc-compatible package) in "
                       "Odoo's Python environment; SOAP and OData work without it.")
    version = getattr(module, "__version__", "?")
    return True, f"pyrfc {version} available"


def default_connection_factory():
    module = pyrfc_module()
    if module is None:
        raise SapBusinessError(pyrfc_status()[1])
    return module.Connection


class RfcSession:
    """One RFC connection; classifies failures the way the pipeline needs them."""

    def __init__(self, factory, params):
        try:
            self.connection = factory(**params)
        except Exception as exc:  # noqa: BLE001 - classified below
            raise classify(exc, "RFC logon") from None

    def call(self, function_name, **kwargs):
        try:
            return self.connection.call(function_name, **kwargs)
        except Exception as exc:  # noqa: BLE001 - classified below
            raise classify(exc, function_name) from None

    def close(self):
        try:
            self.connection.close()
        except Exception as exc:  # noqa: BLE001 - closing a broken connection must not mask
            _logger.debug("closing the RFC connection failed: %s", exc)  # the error that broke it

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def classify(exc, what):
    name = type(exc).__name__
    text = f"{what}: {name}: {exc}"
    if name in RETRYABLE_RFC_ERRORS or isinstance(exc, (OSError, TimeoutError)):
        return SapRetryableError(text)
    return SapBusinessError(text)

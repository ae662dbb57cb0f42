"""SOAP calls to SAP with zeep, driven by the service's WSDL.

SAP publishes RFC-enabled function modules (BAPIs) as SOAP services in the namespace
``urn:sap-com:document:sap:rfc:functions``: the operation is the function module name and
its parameters keep their ABAP names, so the BAPI structures built in ``sap_bapi`` go
through unchanged. Services generated with "mc-style" name mapping (namespace
``urn:sap-com:document:sap:soap:functions:mc-style``) drop the underscores and capitalise
each part instead (``BAPI_PRODORDCONF_CREATE_TT`` -> ``BapiProdordconfCreateTt``,
``CONF_NO`` -> ``ConfNo``; table rows stay ``item``): ``call`` finds out which naming the
WSDL uses from its operations and translates both ways. The SOAP runtime commits the LUW
at the end of each successful call.
"""
import os
import re
import tempfile

import requests
from zeep import Client, Settings
from zeep.exceptions import Fault, TransportError, XMLSyntaxError
from zeep.helpers import serialize_object
from zeep.transports import Transport
from zeep.wsse.username import UsernameToken

from odoo.addons.mfg_integration.exceptions import ForeignHostError

from .sap_errors import SapBusinessError, SapRetryableError


class _AuthCheckingTransport(Transport):
    """zeep reads an HTML 401 page as an "unknown fault"; say what it is instead."""

    def post(self, address, message, headers):
        response = super().post(address, message, headers)
        if response.status_code in (401, 403):
            raise TransportError(status_code=response.status_code, content=response.content)
        return response


# zeep parses the WSDL once per client; keep clients per (connector, WSDL version) so a
# job of 500 messages does not download and parse it 500 times.
_CLIENTS = {}


def build_client(cache_key, wsdl_url=None, wsdl_bytes=None, username=None, password=None,
                 basic_auth=True, wsse=False, timeout=10.0, verify=True, service_url=None,
                 session=None):
    """``session``: the connector's origin-bound session (WSDL, imports and calls may
    only reach the connector's own hosts with its credentials)."""
    if cache_key in _CLIENTS:
        return _CLIENTS[cache_key]
    session = session or requests.Session()
    session.verify = verify
    if basic_auth and username:
        session.auth = (username, password or "")
    transport = _AuthCheckingTransport(session=session, timeout=timeout, operation_timeout=timeout)
    settings = Settings(strict=False, xml_huge_tree=False, forbid_entities=True,
                        forbid_external=True, forbid_dtd=True)
    wsse_token = UsernameToken(username, password or "") if wsse and username else None
    location = wsdl_url
    temp_path = None
    try:
        if wsdl_bytes:
            # zeep reads WSDLs from a location; an uploaded one lives in a private temp file
            # only while it is parsed.
            handle, temp_path = tempfile.mkstemp(suffix=".wsdl")
            with os.fdopen(handle, "wb") as stream:
                stream.write(wsdl_bytes)
            location = temp_path
        if not location:
            raise SapBusinessError("No WSDL: upload one on the connector or give its URL.")
        try:
            client = Client(location, transport=transport, settings=settings, wsse=wsse_token)
        except ForeignHostError as exc:
            raise SapBusinessError(f"WSDL could not be loaded from {location}: {exc}") from None
        except (requests.RequestException, TransportError) as exc:
            raise SapRetryableError(f"WSDL could not be loaded from {location}: {exc}") from exc
        except (XMLSyntaxError, ValueError, KeyError) as exc:
            raise SapBusinessError(f"WSDL is not valid: {exc}") from exc
    finally:
        if temp_path:
            os.unlink(temp_path)
    if not service_url and wsdl_bytes and hasattr(session, "allowed_urls"):
        # An uploaded WSDL is the manager's own file: the service address it declares is
        # the connector's host. A WSDL fetched from a URL gets no such trust.
        for wsdl_service in client.wsdl.services.values():
            for port in wsdl_service.ports.values():
                session.allowed_urls.append((port.binding_options or {}).get("address"))
    if service_url:
        binding = next(iter(client.wsdl.bindings))
        service = client.create_service(binding, service_url)
    else:
        service = client.service
    _CLIENTS[cache_key] = (service, client)
    return service, client


def forget_clients():
    _CLIENTS.clear()


def mc_name(abap_name):
    """SAP's mc-style name of an ABAP name: underscores dropped, each part capitalised."""
    if abap_name == "item":
        return abap_name
    return "".join(part[:1].upper() + part[1:].lower() for part in abap_name.split("_"))


def abap_name(mc_style_name):
    """The ABAP name back from an mc-style one (``ConfNo`` -> ``CONF_NO``)."""
    if mc_style_name == "item":
        return mc_style_name
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", mc_style_name).upper()


def renamed(value, rename):
    if isinstance(value, dict):
        return {rename(key): renamed(item, rename) for key, item in value.items()}
    if isinstance(value, list):
        return [renamed(item, rename) for item in value]
    return value


def call(service, operation, **params):
    """Call one operation by its ABAP name with ABAP-named parameters; return the response
    as plain dicts/lists with ABAP names, whatever name mapping the WSDL was built with."""
    mc_style = False
    try:
        method = getattr(service, operation)
    except AttributeError:
        try:
            method = getattr(service, mc_name(operation))
            mc_style = True
        except AttributeError:
            raise SapBusinessError(
                f"The WSDL has no operation {operation} (nor {mc_name(operation)}).") from None
    if mc_style:
        params = renamed(params, mc_name)
    try:
        response = method(**params)
    except ForeignHostError as exc:
        raise SapBusinessError(str(exc)) from None
    except Fault as fault:
        code = str(fault.code or "")
        text = f"SOAP fault {code}: {fault.message}"
        # Client/Sender faults and failed authentication are about the request itself;
        # Server/Receiver faults are the peer's trouble and worth retrying.
        if any(word in code for word in ("Client", "Sender", "FailedAuthentication",
                                         "InvalidSecurity")):
            raise SapBusinessError(text) from None
        raise SapRetryableError(text) from None
    except TransportError as exc:
        if exc.status_code in (401, 403):
            raise SapBusinessError(f"SAP SOAP refused the credentials (HTTP {exc.status_code}); "
                                   "fix the connector's user, then requeue.") from None
        raise SapRetryableError(f"SAP SOAP HTTP {exc.status_code}: "
                                f"{(exc.content or b'')[:300]!r}") from None
    except requests.Timeout as exc:
        raise SapRetryableError(f"SAP SOAP timeout: {exc}") from None
    except requests.RequestException as exc:
        raise SapRetryableError(f"SAP SOAP unreachable: {exc}") from None
    except (XMLSyntaxError, ValueError, AttributeError, TypeError) as exc:
        raise SapRetryableError(f"SAP SOAP answer could not be read: {exc}") from None
    answer = _plain(serialize_object(response, dict))
    return renamed(answer, abap_name) if mc_style else answer


def _plain(value):
    """zeep gives {"item": [...]} for ABAP tables; flatten them to lists."""
    if isinstance(value, dict):
        if set(value) == {"item"}:
            items = value["item"]
            return [_plain(item) for item in (items or [])]
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def table(rows):
    """A list of dicts -> the {"item": [...]} shape SAP's WSDLs use for tables."""
    return {"item": rows}

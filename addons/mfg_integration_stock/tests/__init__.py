from . import test_outbound_documents

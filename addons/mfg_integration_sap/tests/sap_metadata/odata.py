"""The OData V2 entity types the addon reads and writes, as SAP publishes them.

Source: the services' $metadata (EDMX) as SAP publishes them on the SAP Business Accelerator Hub,
read here through SAP CAP's ``cds import`` of that EDMX (which keeps every property, its
Edm type, MaxLength, Precision/Scale): API_PRODUCTION_ORDER_2_SRV (e.g. floliver/cap-tree,
srv/external/API_PRODUCTION_ORDER_2_SRV.cds), API_MATERIAL_DOCUMENT_SRV
(Dawood-Ghaznavi/Invoice_Management, srv/external/API_MATERIAL_DOCUMENT_SRV.cds),
API_PROD_ORDER_CONFIRMATION_2_SRV (a customer copy of it with the same entity types),
API_PRODUCT_SRV (A_Product, A_ProductDescription) and API_BILL_OF_MATERIAL_SRV (MaterialBOM,
MaterialBOMItem: nagarjuna-immadi/sap-sales-order-confirmation,
srv/external/API_BILL_OF_MATERIAL_SRV.cds; there is no "A_BillOfMaterial").
CDS ``Date`` with sap:display-format Date is Edm.DateTime, ``Time`` is Edm.Time,
``String(n)`` is Edm.String MaxLength n, ``Decimal(p, s)`` Edm.Decimal, ``UUID`` Edm.Guid.

Each type lists the properties of the published type that matter to this integration (keys,
everything the addon sends, and what the simulators answer with); a property missing here
is refused like an unknown one, which keeps the simulator at least as strict as Gateway.
Notable facts the addon once got wrong: the order quantity is ``TotalQuantity`` (there is no
``MfgOrderPlannedTotalQty``), ``LastChangeDateTime`` is an Edm.String of 14 digits (a UTC
time stamp YYYYMMDDhhmmss, compared as a string in $filter), planned dates come as an
Edm.DateTime date plus a separate Edm.Time, and the order's status flags are one-character
strings ("X" or ""), not booleans.
"""
from . import EntityType, Property

S = lambda n: Property("Edm.String", n)  # noqa: E731
DEC = Property("Edm.Decimal", None, 13, 3)
DATE = Property("Edm.DateTime")
TIME = Property("Edm.Time")
BOOL = Property("Edm.Boolean")

PRODUCTION_ORDER = EntityType("A_ProductionOrder_2", ["ManufacturingOrder"], {
    "ManufacturingOrder": S(12), "ManufacturingOrderCategory": S(2),
    "ManufacturingOrderType": S(4), "OrderIsCreated": S(1), "OrderIsReleased": S(1),
    "OrderIsConfirmed": S(1), "OrderIsPartiallyConfirmed": S(1), "OrderIsDeleted": S(1),
    "OrderIsTechnicallyCompleted": S(1), "OrderIsClosed": S(1), "OrderIsMarkedForDeletion": S(1),
    "OrderIsLocked": S(1), "LastChangeDateTime": S(14), "Material": S(40),
    "StorageLocation": S(4), "ProductionPlant": S(4), "Plant": S(4), "MRPController": S(3),
    "ProductionSupervisor": S(3), "ProductionVersion": S(4),
    "MfgOrderPlannedStartDate": DATE, "MfgOrderPlannedStartTime": TIME,
    "MfgOrderPlannedEndDate": DATE, "MfgOrderPlannedEndTime": TIME,
    "MfgOrderScheduledStartDate": DATE, "MfgOrderScheduledStartTime": TIME,
    "MfgOrderScheduledEndDate": DATE, "MfgOrderScheduledEndTime": TIME,
    "ProductionUnit": S(3), "ProductionUnitISOCode": S(3), "ProductionUnitSAPCode": S(3),
    "TotalQuantity": DEC, "MfgOrderPlannedScrapQty": DEC, "MfgOrderConfirmedYieldQty": DEC,
})
# Creatable and updatable only in the fields the order API lets an external planner change.
ORDER_UPDATABLE = {"TotalQuantity", "MfgOrderPlannedStartDate", "MfgOrderPlannedStartTime",
                   "MfgOrderPlannedEndDate", "MfgOrderPlannedEndTime"}

CONFIRMATION = EntityType("ProdnOrdConf2", ["ConfirmationGroup", "ConfirmationCount"], {
    "ConfirmationGroup": S(10), "ConfirmationCount": S(8), "OrderID": S(12), "Sequence": S(6),
    "OrderOperation": S(4), "OrderSuboperation": S(4), "ConfirmationText": S(40),
    "Language": S(2), "Material": S(40), "FinalConfirmationType": S(1),
    "IsFinalConfirmation": BOOL, "OpenReservationsIsCleared": BOOL,
    "APIConfHasNoGoodsMovements": BOOL, "Plant": S(4), "WorkCenter": S(8),
    "Personnel": S(8), "PostingDate": DATE, "ConfirmedExecutionStartDate": DATE,
    "ConfirmedExecutionStartTime": TIME, "ConfirmedExecutionEndDate": DATE,
    "ConfirmedExecutionEndTime": TIME, "ConfirmationUnit": S(3),
    "ConfirmationUnitISOCode": S(3), "ConfirmationYieldQuantity": DEC,
    "ConfirmationScrapQuantity": DEC, "ConfirmationReworkQuantity": DEC,
    "VarianceReasonCode": S(4), "ExternalSystemConfirmation": Property("Edm.Guid"),
    "EnteredByExternalUser": S(12),
}, creatable=True, updatable=False)

MATERIAL_DOCUMENT_ITEM = EntityType(
    "A_MaterialDocumentItem",
    ["MaterialDocumentYear", "MaterialDocument", "MaterialDocumentItem"], {
        "MaterialDocumentYear": S(4), "MaterialDocument": S(10), "MaterialDocumentItem": S(4),
        "Material": S(40), "Plant": S(4), "StorageLocation": S(4), "Batch": S(10),
        "GoodsMovementType": S(3), "InventoryStockType": S(2), "ManufacturingOrder": S(12),
        "ManufacturingOrderItem": S(4), "GoodsMovementRefDocType": S(1),
        "GoodsMovementReasonCode": S(4), "EntryUnit": S(3), "EntryUnitISOCode": S(3),
        "EntryUnitSAPCode": S(3), "QuantityInEntryUnit": DEC, "MaterialDocumentItemText": S(50),
        "Reservation": S(10), "ReservationItem": S(4), "ReservationIsFinallyIssued": BOOL,
        "IsCompletelyDelivered": BOOL,
    }, creatable=False, updatable=False)

MATERIAL_DOCUMENT = EntityType(
    "A_MaterialDocumentHeader", ["MaterialDocumentYear", "MaterialDocument"], {
        "MaterialDocumentYear": S(4), "MaterialDocument": S(10), "InventoryTransactionType": S(2),
        "DocumentDate": DATE, "PostingDate": DATE, "CreationDate": DATE, "CreationTime": TIME,
        "CreatedByUser": S(12), "MaterialDocumentHeaderText": S(25), "ReferenceDocument": S(16),
        "GoodsMovementCode": S(2),
    }, navigation={"to_MaterialDocumentItem": "A_MaterialDocumentItem"}, updatable=False)

# API_PRODUCT_SRV: A_Product and its descriptions (read-only here: the material master pull).
PRODUCT_DESCRIPTION = EntityType("A_ProductDescription", ["Product", "Language"], {
    "Product": S(40), "Language": S(2), "ProductDescription": S(40)})
PRODUCT = EntityType("A_Product", ["Product"], {
    "Product": S(40), "ProductType": S(4), "CrossPlantStatus": S(2), "BaseUnit": S(3),
    "ProductGroup": S(9), "IsMarkedForDeletion": BOOL, "ProductOldID": S(40),
    "CreationDate": DATE, "LastChangeDate": DATE,
}, navigation={"to_Description": "A_ProductDescription"})

# API_BILL_OF_MATERIAL_SRV: the material BoM header and its items (read-only here).
BOM_KEYS = ["BillOfMaterial", "BillOfMaterialCategory", "BillOfMaterialVariant",
            "BillOfMaterialVersion"]
MATERIAL_BOM_ITEM = EntityType(
    "MaterialBOMItem", BOM_KEYS + ["BillOfMaterialItemNodeNumber", "HeaderChangeDocument",
                                   "Material", "Plant"], {
        "BillOfMaterial": S(8), "BillOfMaterialCategory": S(1), "BillOfMaterialVariant": S(2),
        "BillOfMaterialVersion": S(4), "BillOfMaterialItemNodeNumber": S(8),
        "HeaderChangeDocument": S(12), "Material": S(40), "Plant": S(4),
        "ValidityStartDate": DATE, "BillOfMaterialComponent": S(40),
        "BillOfMaterialItemCategory": S(1), "BillOfMaterialItemNumber": S(4),
        "BillOfMaterialItemUnit": S(3), "BillOfMaterialItemQuantity": DEC,
        "ComponentScrapInPercent": Property("Edm.Decimal", None, 5, 2),
        "BOMItemDescription": S(40), "IsDeleted": BOOL,
    }, creatable=False, updatable=False)
MATERIAL_BOM = EntityType(
    "MaterialBOM", BOM_KEYS + ["EngineeringChangeDocument", "Material", "Plant"], {
        "BillOfMaterial": S(8), "BillOfMaterialCategory": S(1), "BillOfMaterialVariant": S(2),
        "BillOfMaterialVersion": S(4), "EngineeringChangeDocument": S(12), "Material": S(40),
        "Plant": S(4), "BillOfMaterialVariantUsage": S(1), "BOMHeaderText": S(40),
        "HeaderValidityStartDate": DATE, "IsMarkedForDeletion": BOOL,
        "BOMHeaderBaseUnit": S(3), "BOMHeaderQuantityInBaseUnit": DEC, "LastChangeDate": DATE,
    }, navigation={"to_BillOfMaterialItem": "MaterialBOMItem"}, creatable=False,
    updatable=False)

TYPES = {t.name: t for t in (PRODUCTION_ORDER, CONFIRMATION, MATERIAL_DOCUMENT,
                             MATERIAL_DOCUMENT_ITEM, PRODUCT, PRODUCT_DESCRIPTION,
                             MATERIAL_BOM, MATERIAL_BOM_ITEM)}

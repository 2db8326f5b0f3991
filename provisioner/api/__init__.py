"""The B2B Edition API: the typed interface, its HTTP client and request pacing."""

from provisioner.api.client import B2BClient, bulk_created_ids, bulk_item_errors
from provisioner.api.pacing import Pacer, PacerClosedError

__all__ = [
    "B2BClient",
    "Pacer",
    "PacerClosedError",
    "bulk_created_ids",
    "bulk_item_errors",
]

"""Create BigCommerce B2B Edition Company users from a sales-ops spreadsheet."""

__version__ = "0.1.0"

"""The CDS Hooks service: discovery, patient-view and order-select/order-sign cards, rule docs."""

from .app import create_app

__all__ = ["create_app"]

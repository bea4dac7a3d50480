"""The real-time features, each a Django app built only on ``realtime.api``."""

"""The case service: Temporal server management, the worker, and the case API used by CLI and web."""

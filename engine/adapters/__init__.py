"""Adapters: facts from the records of other services, through declarative mappings
(`adapters/<name>.yaml`, validated by `schemas/adapter.schema.json`).

The Python here is generic (a mapping interpreter and an HTTP client); every service, URL
path, field name and code lives in the mapping file.
"""

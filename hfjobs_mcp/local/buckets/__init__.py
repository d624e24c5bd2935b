"""Buckets: the Hub's bucket API and a Xet storage endpoint over plain folders of the backend.

``store`` (bucket records, folders, the file index), ``paths`` (link-safe access to a bucket's folder),
``xetfmt`` (the shard and xorb formats), ``cas`` (the Xet storage: xorbs, file reconstructions, tokens),
``transfer`` (moving files between a folder and the storage with the real ``hf_xet`` client),
``routes`` (``/api/buckets/...`` and ``/buckets/.../resolve/...``), ``cas_routes`` (the storage's HTTP API).
"""
